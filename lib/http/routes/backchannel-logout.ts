import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ProviderLink } from '../../client/provider-link.js';
import type { TokenLifecycle } from '../../client/token-lifecycle.js';
import { debugFor } from '../../debug.js';
import { claimedIssuer, InvalidLogoutTokenError, verifyLogoutToken } from '../../protocol/logout-token.js';
import type { LoginStore } from '../../session/login-store.js';
import { FormBodyError, readFormBody } from '../read-form.js';
import { noStore, sendJson } from '../respond.js';

const log = debugFor('logout');

function sendError(res: Response, status: number, error: string): void {
  if (status === 413) res.setHeader('Connection', 'close');
  sendJson(res, status, { error });
}

/**
 * POST back-channel logout (OIDC Back-Channel Logout 1.0 §2.5–2.8): the provider that issued the
 * logout token (by its `iss`, among the providers with a known issuer) verifies it; a `jti` seen
 * before is a replay; then every session of its `sid` (or `sub`) ends, in whichever process it
 * lives, and the ended logins' tokens are revoked (best effort). 200 with `Cache-Control:
 * no-store`; a bad token 400 `invalid_request`; a provider whose keys are unknown 501.
 */
export function createBackchannelLogoutHandler(links: Iterable<ProviderLink>, logins: LoginStore, lifecycle: TokenLifecycle): RequestHandler {
  const allLinks = [...links];
  const byIssuer = new Map<string, ProviderLink>();
  for (const link of allLinks) if (link.provider.issuer && !byIssuer.has(link.provider.issuer)) byIssuer.set(link.provider.issuer, link);
  const byName = new Map(allLinks.map((link) => [link.name, link] as const));

  async function run(req: Request, res: Response): Promise<void> {
    noStore(res);
    let token: string | null;
    try {
      const form = await readFormBody(req);
      token = form.getAll('logout_token').length === 1 ? form.get('logout_token') : null;
    } catch (err) {
      if (!(err instanceof FormBodyError)) throw err;
      return sendError(res, err.status === 413 ? 413 : 400, 'invalid_request');
    }
    const issuer = token ? claimedIssuer(token) : undefined;
    const link = issuer === undefined ? undefined : byIssuer.get(issuer);
    if (!token || !link) return sendError(res, 400, 'invalid_request');
    const endpoints = await link.endpoints();
    if (!endpoints.jwksUri) return sendError(res, 501, 'not_implemented');
    let logout;
    try {
      logout = await verifyLogoutToken(token, { issuer: issuer!, clientId: link.provider.clientId, jwksUri: endpoints.jwksUri, keys: link.keys });
    } catch (err) {
      if (!(err instanceof InvalidLogoutTokenError)) throw err;
      log('logout token for %s rejected: %s', link.name, err.message);
      return sendError(res, 400, 'invalid_request');
    }
    if (!(await logins.acceptLogoutToken(req, issuer!, logout.jti, logout.acceptedUntil))) {
      log('logout token for %s replayed', link.name);
      return sendError(res, 400, 'invalid_request');
    }
    const ended = await lifecycle.endSessionsOf(req, link, byName, logout);
    log('back-channel logout for %s ended %d login(s)', link.name, ended);
    res.statusCode = 200;
    res.setHeader('Content-Length', '0');
    res.end();
  }

  return function oauthBackchannelLogout(req: Request, res: Response, next: NextFunction) {
    run(req, res).catch(next);
  };
}
