import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ClientShared } from '../../client/provider-client.js';
import type { ProviderLink } from '../../client/provider-link.js';
import { debugFor, tokenId } from '../../debug.js';
import { InvalidCallbackError } from '../../errors.js';
import { readAuthorizationResponse, readCallbackState } from '../../protocol/authorization-response.js';
import { assertAuthTime, originalIdTokenClaims, verifyIdToken } from '../../protocol/id-token.js';
import { generateDpopKey } from '../../protocol/dpop.js';
import { fromTokenResponse } from '../../protocol/token-set.js';
import { userInfoAtLogin } from '../../client/userinfo.js';
import { withIdToken } from '../../session/record-format.js';
import { withAuthenticationContext, type LoginMarker, type LoginTransaction } from '../../session/session-data.js';
import type { LoginOutcome } from '../../session/transactions.js';
import { RequestSessionView } from '../../session/session-view.js';
import { noStore, redirect } from '../respond.js';
import { rawQuery } from './safe-redirect.js';

const log = debugFor('callback');
/** ID-token claims that are protocol plumbing, not facts about the user (`acr`, `amr`, `auth_time` are: step-up checks). */
const PROTOCOL_CLAIMS = new Set(['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'nonce', 'at_hash', 'c_hash', 'azp', 'sid', 'jti']);

function loginMarker(claims: Record<string, unknown> | undefined, now: number): LoginMarker {
  const marker: LoginMarker = { at: now };
  if (typeof claims?.sub === 'string') marker.sub = claims.sub;
  const extra = Object.fromEntries(Object.entries(claims ?? {}).filter(([k]) => !PROTOCOL_CLAIMS.has(k)));
  if (Object.keys(extra).length > 0) marker.claims = extra;
  return marker;
}

function replayed(): InvalidCallbackError {
  return new InvalidCallbackError('Unknown, expired or already used login state; start the login again.');
}

/**
 * GET callback (RFC 6749 §4.1.2). Every failure before the code exchange answers without calling
 * the token endpoint. The transaction is claimed once and atomically (session/transactions.ts);
 * a duplicate of a callback in flight (double click, proxy retry) waits for it and continues in
 * the session it produced.
 */
export function createCallbackHandler(link: ProviderLink, shared: ClientShared): RequestHandler {
  const { logins, events, refresher } = shared;
  const { provider } = link;

  /** Steps 2–6: validate, exchange the code, verify the ID token, store the login. Returns the new session id. */
  async function redeem(req: Request, params: URLSearchParams, tx: LoginTransaction): Promise<string> {
    const endpoints = await link.endpoints();
    const code = readAuthorizationResponse(params, endpoints);
    const dpop = provider.dpop ? await generateDpopKey() : undefined;
    const body = await link.tokenEndpoint.exchangeCode(endpoints.tokenUrl, { code, redirectUri: provider.redirectUri, codeVerifier: tx.v }, dpop);
    const tokens = fromTokenResponse(body, Date.now(), undefined, provider.defaultTokenType, provider.dpop);
    let claims: Record<string, unknown> | undefined;
    if (tokens.idToken && endpoints.issuer && endpoints.jwksUri) {
      claims = await verifyIdToken(tokens.idToken, { issuer: endpoints.issuer, clientId: provider.clientId, jwksUri: endpoints.jwksUri, keys: link.keys, nonce: tx.n });
    }
    assertAuthTime(claims, tx.m ?? tx.u?.m);
    const user = provider.fetchUserInfo ? await userInfoAtLogin(link, tokens, claims) : claims;
    const marker = withAuthenticationContext(loginMarker(user, Date.now()), claims, tx);
    let done;
    try {
      const kept = withIdToken(tokens, link.keepsIdToken(endpoints) ? tokens.idToken : undefined, claims && originalIdTokenClaims(claims));
      done = await logins.completeLogin(req, { provider: link.name, ...kept, marker, sid: typeof claims?.sid === 'string' ? claims.sid : undefined, dpop });
    } catch (err) {
      // The provider issued tokens nobody can use now: revoke them (best effort) before failing.
      await link.revoke(tokens);
      throw err;
    }
    // Logging in again with the same provider replaces that login: its tokens must not live on.
    await link.revoke(done.previous);
    log('login completed for %s (token %s)', link.name, tokenId(tokens.accessToken));
    events.emit('login', { provider: link.name, sub: marker.sub });
    await refresher.notify({ sessionId: done.sessionId, link }, tokens, undefined, 'login');
    return done.sessionId;
  }

  async function run(req: Request, res: Response): Promise<void> {
    noStore(res);
    res.setHeader('Referrer-Policy', 'no-referrer');
    const params = rawQuery(req.url);
    const { state, code } = readCallbackState(params);
    const claim = await logins.claim(req, state, link.name, code ?? '');
    if (claim.kind === 'rejected') {
      // A second tab whose login was pending when the first tab's completed: no code redemption,
      // just back to where it was going (or to log in again when this provider is not logged in).
      const abandoned = logins.abandonedLogin(req, state);
      if (abandoned?.p !== link.name) throw replayed();
      if (new RequestSessionView(req).marker(link.name)) return redirect(res, 303, abandoned.r);
      if (provider.loginPath === false) throw replayed();
      return redirect(res, 302, `${provider.loginPath}?returnTo=${encodeURIComponent(abandoned.r)}`);
    }
    if (claim.kind === 'duplicate') {
      const { sessionId } = await claim.outcome;
      if (sessionId === undefined || !(await logins.adoptSession(req, sessionId))) throw replayed();
      redirect(res, 303, claim.tx.r);
      return;
    }
    const outcome: LoginOutcome = { sessionId: undefined };
    try {
      outcome.sessionId = await redeem(req, params, claim.tx);
    } finally {
      claim.settle(outcome);
    }
    redirect(res, 303, claim.tx.r);
  }

  return function oauthCallback(req: Request, res: Response, next: NextFunction) {
    run(req, res).catch(next);
  };
}
