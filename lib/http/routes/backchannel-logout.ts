import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ProviderLink } from '../../client/provider-link.js';
import type { TokenLifecycle } from '../../client/token-lifecycle.js';
import { debugFor } from '../../debug.js';
import { expectedIssuer } from '../../protocol/id-token.js';
import { claimedIssuerAndAudience, InvalidLogoutTokenError, verifyLogoutToken } from '../../protocol/logout-token.js';
import type { LoginStore } from '../../session/login-store.js';
import { FormBodyError, readFormBody } from '../read-form.js';
import { noStore, sendJson } from '../respond.js';
import { LogoutProviders } from './logout-providers.js';

const log = debugFor('logout');

function sendError(res: Response, status: number, error: string): void {
  if (status === 413) res.setHeader('Connection', 'close');
  sendJson(res, status, { error });
}

/** What the route needs beyond the providers: whether a logout token ends the whole session. */
export interface BackchannelLogoutSettings {
  /** End every login of a session whose login the token names, not only that provider's (`backchannelLogout.endSession`). */
  endSession: boolean;
  /** Deadline for reading the request body (`httpTimeoutMs`). */
  timeoutMs: number;
}

/**
 * POST back-channel logout (OIDC Back-Channel Logout 1.0 §2.5–2.8): the provider that issued the
 * logout token (by its `iss`, and among providers sharing that issuer by the client in its `aud`)
 * verifies it; a `jti` already recorded is a replay; then that provider's login ends in every
 * session of its `sid` (or `sub`), in whichever process it lives (the whole session when it has no
 * other login, or with `endSession`), and the ended logins' tokens are revoked (best effort).
 * The `jti` is recorded only after that, so a delivery that failed (a store error, 503) can be
 * retried. 200 with `Cache-Control: no-store`; a bad token 400 `invalid_request`; a provider
 * whose keys are unknown 501.
 */
export function createBackchannelLogoutHandler(links: Iterable<ProviderLink>, logins: LoginStore, lifecycle: TokenLifecycle, settings: BackchannelLogoutSettings): RequestHandler {
  const providers = new LogoutProviders(links);

  /** The provider a token names: its issuer, and the first of that issuer's clients in its `aud`. */
  function providerOf(token: string): ProviderLink | undefined {
    const claimed = claimedIssuerAndAudience(token);
    if (!claimed) return undefined;
    return providers.ofIssuer(claimed.issuer).find((link) => claimed.audience.includes(link.provider.clientId));
  }

  async function run(req: Request, res: Response): Promise<void> {
    noStore(res);
    let token: string | null;
    try {
      const form = await readFormBody(req, { timeoutMs: settings.timeoutMs });
      token = form.getAll('logout_token').length === 1 ? form.get('logout_token') : null;
    } catch (err) {
      if (!(err instanceof FormBodyError)) throw err;
      return sendError(res, err.status === 413 ? 413 : 400, 'invalid_request');
    }
    const link = token ? providerOf(token) : undefined;
    if (!token || !link) return sendError(res, 400, 'invalid_request');
    // The configured issuer, or with an issuer template the one of the token's own tenant (`tid`).
    let issuer: string;
    try {
      issuer = expectedIssuer(token, link.provider.issuer!);
    } catch {
      return sendError(res, 400, 'invalid_request');
    }
    const endpoints = await link.endpoints();
    if (!endpoints.jwksUri) return sendError(res, 501, 'not_implemented');
    let logout;
    try {
      logout = await verifyLogoutToken(token, { issuer, clientId: link.provider.clientId, jwksUri: endpoints.jwksUri, keys: link.keys, idTokenSigningAlgs: endpoints.idTokenSigningAlgs });
    } catch (err) {
      if (!(err instanceof InvalidLogoutTokenError)) throw err;
      log('logout token for %s rejected: %s', link.name, err.message);
      return sendError(res, 400, 'invalid_request');
    }
    if (await logins.backchannel.logoutTokenSeen(req, issuer, logout.jti)) {
      log('logout token for %s replayed', link.name);
      return sendError(res, 400, 'invalid_request');
    }
    // A failure here (store error) answers 503 and records nothing: the provider's retry ends them.
    const ended = await lifecycle.endSessionsOf(req, link, providers.byName, logout, settings.endSession);
    await logins.backchannel.recordLogoutToken(req, issuer, logout.jti, logout.acceptedUntil);
    log('back-channel logout for %s ended %d login(s)', link.name, ended);
    res.statusCode = 200;
    res.setHeader('Content-Length', '0');
    res.end();
  }

  return function oauthBackchannelLogout(req: Request, res: Response, next: NextFunction) {
    run(req, res).catch(next);
  };
}
