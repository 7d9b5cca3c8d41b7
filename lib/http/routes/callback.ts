import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ResolvedProvider } from '../../config/options.js';
import { debugFor, tokenId } from '../../debug.js';
import { AuthorizationResponseError, InvalidCallbackError, OAUTH_CODES } from '../../errors.js';
import { verifyIdToken } from '../../protocol/id-token.js';
import { exchangeCode } from '../../protocol/token-endpoint.js';
import { tokenClientConfig } from '../../client/refresh.js';
import type { Runtime } from '../runtime.js';
import { consumeTransaction, regenerateSession, requireSession, saveSession, type LoginMarker, type LoginTransaction } from '../../session/session-data.js';
import { cookieExpiry, deleteRecord, readRecord, recordCookie, recordKey, writeRecord, type CookieLike } from '../../session/token-record.js';
import { fromTokenResponse, type TokenSet } from '../../protocol/token-set.js';
import { rawQuery } from './safe-redirect.js';

const log = debugFor('callback');
const ERROR_STATUS: Record<string, number> = { access_denied: 403, server_error: 502, temporarily_unavailable: 503 };
const MAX_STATE_LENGTH = 512;
const MAX_CODE_LENGTH = 4096;
/** Implicit/hybrid/JARM artifacts we never ask for: their presence is an injection attempt (RFC 9700 §4.6). */
const FOREIGN_ARTIFACTS = ['access_token', 'id_token', 'token', 'response'];
/** ID-token claims that are protocol plumbing, not facts about the user. */
const PROTOCOL_CLAIMS = new Set(['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'nonce', 'auth_time', 'at_hash', 'c_hash', 'azp', 'sid', 'jti', 'acr', 'amr']);

/** Exactly one non-empty value within `maxLength`, else a 400 naming the parameter. */
function exactlyOne(params: URLSearchParams, name: string, maxLength: number): string {
  const all = params.getAll(name);
  if (all.length !== 1 || !all[0] || all[0].length > maxLength) {
    throw new InvalidCallbackError(`The callback must carry exactly one "${name}" parameter.`);
  }
  return all[0];
}

/** The record cookie for the (regenerated) session of this request. */
function cookieOf(req: Request): CookieLike {
  const { cookie } = req.session;
  return recordCookie(cookie.expires ? cookie.expires.getTime() : undefined, cookie.originalMaxAge);
}

function userClaims(claims: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(claims).filter(([k]) => !PROTOCOL_CLAIMS.has(k)));
}

export function createCallbackHandler(runtime: Runtime, provider: ResolvedProvider): RequestHandler {
  const { config } = runtime;
  const tokenClient = tokenClientConfig(provider, config.httpTimeoutMs);

  /** Move the other providers' token records to the regenerated session id. */
  async function carryOverRecords(req: Request, oldId: string, markers: Record<string, LoginMarker>): Promise<void> {
    for (const name of Object.keys(markers)) {
      const record = await readRecord(req.sessionStore, recordKey(oldId, name), config.httpTimeoutMs);
      if (!record) {
        delete markers[name];
        continue;
      }
      await writeRecord(req.sessionStore, recordKey(req.session.id, name), record, cookieOf(req), config.httpTimeoutMs);
      const marker = markers[name];
      if (marker) marker.exp = cookieExpiry(cookieOf(req)) ?? undefined;
      await deleteRecord(req.sessionStore, recordKey(oldId, name), config.httpTimeoutMs);
    }
  }

  /** Regenerate the session, write the token record under the new id, carry other logins over, save. */
  async function storeLogin(req: Request, session: Request['session'], tokens: TokenSet, claims: Record<string, unknown> | undefined, now: number): Promise<LoginMarker> {
    const oldId = session.id;
    const pending = session.oauth?.tx ?? {};
    const otherMarkers = { ...session.oauth?.p };
    delete otherMarkers[provider.name];
    await deleteRecord(req.sessionStore, recordKey(oldId, provider.name), config.httpTimeoutMs);
    await regenerateSession(req);
    await carryOverRecords(req, oldId, otherMarkers);
    const fresh = req.session;
    const marker: LoginMarker = { at: now };
    if (typeof claims?.sub === 'string') marker.sub = claims.sub;
    const extraClaims = claims ? userClaims(claims) : {};
    if (Object.keys(extraClaims).length > 0) marker.claims = extraClaims;
    const cookie = cookieOf(req);
    const expiry = cookieExpiry(cookie);
    if (expiry !== undefined) marker.exp = expiry;
    await writeRecord(req.sessionStore, recordKey(fresh.id, provider.name), { v: 1, tokens }, cookie, config.httpTimeoutMs);
    fresh.oauth = { p: { ...otherMarkers, [provider.name]: marker } };
    if (Object.keys(pending).length > 0) fresh.oauth.tx = pending;
    await saveSession(fresh);
    return marker;
  }

  async function run(req: Request, res: Response): Promise<void> {
    res.set('Cache-Control', 'no-store');
    res.set('Referrer-Policy', 'no-referrer');
    const params = rawQuery(req.url);

    // 1. state: exactly one, matching a transaction of this session, consumed at once.
    const state = exactlyOne(params, 'state', MAX_STATE_LENGTH);
    if (FOREIGN_ARTIFACTS.some((name) => params.has(name))) {
      throw new InvalidCallbackError('The callback carries token artifacts of a flow this client never uses.');
    }
    const session = requireSession(req);
    const now = Date.now();
    const tx: LoginTransaction | undefined = consumeTransaction(session, state, now);
    if (!tx || tx.p !== provider.name) {
      throw new InvalidCallbackError('Unknown, expired or already used login state; start the login again.');
    }

    // 2. mix-up defence (RFC 9207).
    const endpoints = await runtime.endpoints(provider);
    const iss = params.getAll('iss');
    if (iss.length > 1) throw new InvalidCallbackError('The callback carries more than one "iss".', OAUTH_CODES.MIX_UP);
    if (endpoints.issuer !== undefined) {
      if (iss.length === 1 && iss[0] !== endpoints.issuer) {
        throw new InvalidCallbackError('The callback "iss" is not this provider\'s issuer (mix-up attack?).', OAUTH_CODES.MIX_UP);
      }
      if (iss.length === 0 && endpoints.issParameterRequired) {
        throw new InvalidCallbackError('The callback lacks the "iss" parameter this provider promises.', OAUTH_CODES.MIX_UP);
      }
    }

    // 3. error response from the AS: only the code, restricted to safe characters, is kept.
    const errors = params.getAll('error');
    if (errors.length > 0 && params.has('code')) throw new InvalidCallbackError('The callback carries both "code" and "error".');
    if (errors.length > 1) throw new InvalidCallbackError('The callback carries more than one "error".');
    if (errors.length > 0) {
      const code = /^[A-Za-z0-9_.-]{1,64}$/.test(errors[0] ?? '') ? (errors[0] as string) : 'invalid_error';
      throw new AuthorizationResponseError(code, ERROR_STATUS[code] ?? 400);
    }

    // 4. code exchange with the PKCE verifier.
    const code = exactlyOne(params, 'code', MAX_CODE_LENGTH);
    const body = await exchangeCode(tokenClient, endpoints.tokenUrl, { code, redirectUri: provider.redirectUri, codeVerifier: tx.v });

    // 5. token response and ID token.
    const tokens = fromTokenResponse(body, Date.now(), undefined, provider.defaultTokenType);
    let claims: Record<string, unknown> | undefined;
    if (tokens.idToken && endpoints.issuer && endpoints.jwksUri) {
      claims = await verifyIdToken(tokens.idToken, {
        issuer: endpoints.issuer,
        clientId: provider.clientId,
        jwksUri: endpoints.jwksUri,
        nonce: tx.n,
        timeoutMs: config.httpTimeoutMs,
      });
    }

    // 6. new session id (no fixation), tokens in their own record, session saved before the redirect.
    let marker: LoginMarker;
    try {
      marker = await storeLogin(req, session, tokens, claims, now);
    } catch (err) {
      // The provider issued tokens nobody can use now: revoke them (best effort) before failing.
      await runtime.revokeTokens(provider, endpoints.revocationUrl, tokens);
      throw err;
    }
    const fresh = req.session;

    log('login completed for %s (token %s)', provider.name, tokenId(tokens.accessToken));
    runtime.events.emit('login', { provider: provider.name, sub: marker.sub });
    await runtime.refresher.notify({ sessionId: fresh.id, provider }, tokens, undefined, 'login');
    res.redirect(303, tx.r);
  }

  return function oauthCallback(req: Request, res: Response, next: NextFunction) {
    run(req, res).catch(next);
  };
}
