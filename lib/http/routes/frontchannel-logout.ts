import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ProviderLink } from '../../client/provider-link.js';
import type { TokenLifecycle } from '../../client/token-lifecycle.js';
import { debugFor } from '../../debug.js';
import { HTML_CSP, noStore, sendHtml } from '../respond.js';
import { LogoutProviders } from './logout-providers.js';
import { rawQuery } from './safe-redirect.js';

const log = debugFor('logout');
const MAX_PARAM_LENGTH = 512;
const PAGE = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Signed out</title></head><body>Signed out.</body></html>';

/** Exactly one non-empty value of `name` within the length cap, else undefined. */
function single(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  return all.length === 1 && all[0] && all[0].length <= MAX_PARAM_LENGTH ? all[0] : undefined;
}

function originOf(url: string | undefined): string[] {
  if (!url) return [];
  try {
    return [new URL(url).origin];
  } catch {
    return [];
  }
}

/** The origins that may frame the answer: the provider's own (issuer, authorization and end-session endpoints). */
async function providerOrigins(links: readonly ProviderLink[]): Promise<string[]> {
  const origins = new Set<string>();
  for (const link of links) {
    for (const o of originOf(link.provider.issuer)) origins.add(o);
    const endpoints = await link.endpoints().catch(() => undefined);
    for (const o of [...originOf(endpoints?.authorizationUrl), ...originOf(endpoints?.endSessionUrl)]) origins.add(o);
  }
  return [...origins];
}

/**
 * The answer the provider's iframe shows: the package's page CSP plus `frame-ancestors` naming only
 * the provider's origins (an `X-Frame-Options` set earlier, e.g. by helmet, would forbid the frame
 * the protocol needs, so it is removed: `frame-ancestors` is the stricter, origin-precise rule).
 */
function sendFramablePage(res: Response, origins: readonly string[]): void {
  res.statusCode = 200;
  res.removeHeader('X-Frame-Options');
  res.setHeader('Content-Security-Policy', `${HTML_CSP}; frame-ancestors ${origins.length > 0 ? origins.join(' ') : "'none'"}`);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(PAGE));
  res.end(PAGE);
}

/**
 * GET front-channel logout (OpenID Connect Front-Channel Logout 1.0 §2–§4): the provider renders
 * this URL in an iframe with `iss` and `sid` when the user logs out there. The providers whose
 * `issuer` is `iss` end their login in every session of that provider session `sid` (the logout
 * index back-channel logout uses, then the same end-login path: tokens revoked, `logout` events),
 * wherever the session lives: the iframe is a third-party request that carries no SameSite=Lax
 * session cookie, so nothing is read from it. `sid` is what authenticates the request (only the
 * provider and its relying parties know it). 200 with a tiny page, `Cache-Control: no-store`, and
 * framing allowed for the provider's origins only (`frame-ancestors`); 400 without exactly one
 * `iss` naming a configured provider and one `sid`.
 */
export function createFrontchannelLogoutHandler(links: Iterable<ProviderLink>, lifecycle: TokenLifecycle): RequestHandler {
  const providers = new LogoutProviders(links);

  async function run(req: Request, res: Response): Promise<void> {
    noStore(res);
    res.setHeader('Referrer-Policy', 'no-referrer');
    const params = rawQuery(req.url);
    const iss = single(params, 'iss');
    const sid = single(params, 'sid');
    const matching = iss === undefined ? [] : providers.ofIssuer(iss);
    if (sid === undefined || matching.length === 0) {
      log('front-channel logout refused: %s', sid === undefined ? 'no single sid' : 'unknown iss');
      return sendHtml(res, 400, '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Bad request</title></head><body>Bad request.</body></html>');
    }
    let ended = 0;
    // A store failure propagates (503): the login is not reported as ended.
    for (const link of matching) ended += await lifecycle.endSessionsOf(req, link, providers.byName, { sid }, false, 'frontchannel');
    log('front-channel logout for %s ended %d login(s)', matching.map((l) => l.name).join(', '), ended);
    sendFramablePage(res, await providerOrigins(matching));
  }

  return function oauthFrontchannelLogout(req: Request, res: Response, next: NextFunction) {
    run(req, res).catch(next);
  };
}
