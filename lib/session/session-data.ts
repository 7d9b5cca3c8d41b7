import { createHash } from 'node:crypto';
import type { Request } from 'express';
import type { Session, SessionData } from 'express-session';
import { OAUTH_CODES, OAuthError, SessionUnavailableError } from '../errors.js';
import {
  decodeAbandonedLogin,
  decodeLoginMarker,
  decodePendingLogin,
  encodeLoginMarker,
  encodePendingLogin,
  isStoredMarker,
  type AbandonedLogin,
  type LoginMarker,
  type PendingLogin,
  type StoredAbandonedLogin,
  type StoredMarker,
  type StoredOAuthData,
  type StoredTransaction,
} from './session-format.js';

/**
 * The marker of a new login plus what step-up checks need: `acr` and `auth_time` of the verified
 * ID token, and the step-up request of its pending login. Adds nothing for an ordinary login whose
 * ID token has neither claim.
 */
export function withAuthenticationContext(marker: LoginMarker, idTokenClaims: Record<string, unknown> | undefined, login: PendingLogin): LoginMarker {
  const out = { ...marker };
  if (typeof idTokenClaims?.acr === 'string') out.acr = idTokenClaims.acr;
  if (typeof idTokenClaims?.auth_time === 'number' && Number.isFinite(idTokenClaims.auth_time)) out.authTime = idTokenClaims.auth_time;
  if (login.stepUp) out.stepUp = login.stepUp;
  return out;
}

/**
 * What the package keeps in `req.session.oauth`: pending logins and login markers, never tokens.
 * Its format is internal (it may change between versions); read login state through `req.oauth`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- opaque on purpose: no field is public
export interface OAuthSessionData {}

export const MAX_TRANSACTIONS = 10;
export const TRANSACTION_TTL_MS = 10 * 60 * 1000;

/** A session as this package reads it: `oauth` in its stored shape (session-format.ts). */
export type LiveSession = Session & Omit<Partial<SessionData>, 'oauth'> & { oauth?: StoredOAuthData };

const SESSION_OUTAGE = Symbol('express-oauth2-session.sessionOutage');

/**
 * Called by a middleware instance (`SessionTracker`) on a request without `req.session` after that
 * instance saw express-session working: its store is down. Only such requests are marked, so later
 * `requireSession` calls (requireAuth, `req.oauth`) answer 503 without any process-wide flag.
 */
export function markSessionOutage(req: Request): void {
  (req as Request & { [SESSION_OUTAGE]?: true })[SESSION_OUTAGE] = true;
}

/**
 * req.session, or the reason it is missing: express-session not mounted (500, says how to fix
 * it), or mounted but its store could not load the session (503). express-session leaves no trace on
 * a request when its store is disconnected, so "mounted" means: the middleware instance saw a
 * session store before (`sessionsSeen`; by default, whether the instance marked this request).
 */
export function requireSession(req: Request, sessionsSeen = (req as Request & { [SESSION_OUTAGE]?: true })[SESSION_OUTAGE] === true): LiveSession {
  const session = req.session as LiveSession | undefined;
  if (session) return session;
  if (!req.sessionStore && !sessionsSeen) {
    throw new OAuthError(OAUTH_CODES.MIDDLEWARE_MISSING, 'req.session is missing: mount express-session (app.use(session(...))) before oauthMiddleware().', { status: 500 });
  }
  throw new SessionUnavailableError();
}

/**
 * The stored login marker, if the session holds a well-formed one (anything else reads as logged
 * out). No allocation: `isAuthenticated()` and `user` read it on every request.
 */
export function storedMarker(session: LiveSession | undefined, provider: string): StoredMarker | undefined {
  const marker: unknown = session?.oauth?.p?.[provider];
  return isStoredMarker(marker) ? marker : undefined;
}

/** The login marker, decoded, if the session holds a well-formed one. */
export function loginMarker(session: LiveSession | undefined, provider: string): LoginMarker | undefined {
  return decodeLoginMarker(session?.oauth?.p?.[provider]);
}

/** How many fresh pending logins the session holds (at most {@link MAX_TRANSACTIONS} are kept). */
export function pendingLoginCount(session: LiveSession | undefined, now: number): number {
  const all: unknown = session?.oauth?.tx;
  if (typeof all !== 'object' || all === null) return 0;
  return Object.values(all as Record<string, StoredTransaction | undefined>).filter((t) => typeof t?.t === 'number' && now - t.t < TRANSACTION_TTL_MS).length;
}

export function addTransaction(session: LiveSession, state: string, login: PendingLogin, now: number): void {
  if (typeof session.oauth !== 'object' || session.oauth === null) session.oauth = {};
  const data = session.oauth;
  const live = Object.entries(typeof data.tx === 'object' && data.tx !== null ? data.tx : {})
    .filter(([, t]) => typeof t?.t === 'number')
    .filter(([, t]) => now - t.t < TRANSACTION_TTL_MS)
    .sort(([, a], [, b]) => b.t - a.t)
    .slice(0, MAX_TRANSACTIONS - 1);
  data.tx = Object.fromEntries([[state, encodePendingLogin(login)], ...live]);
}

/**
 * A session that holds nothing but pending logins (no login, no data of the app) lives only as
 * long as a transaction: anonymous `/login` requests cannot fill the store with sessions that
 * never expire. The login regenerates the session, which gets the app's own cookie settings back.
 */
export function limitPendingOnlyLifetime(session: LiveSession): void {
  const markers = session.oauth?.p;
  if (markers && Object.keys(markers).length > 0) return;
  if (!Object.keys(session).every((key) => key === 'cookie' || key === 'oauth')) return;
  const current = session.cookie.originalMaxAge;
  if (current === null || current === undefined || current > TRANSACTION_TTL_MS) session.cookie.maxAge = TRANSACTION_TTL_MS;
}

/** The pending login of `state`, if present, well-formed and fresh (not removed). */
export function peekTransaction(session: LiveSession, state: string, now: number): PendingLogin | undefined {
  const all: unknown = session.oauth?.tx;
  if (typeof all !== 'object' || all === null || !Object.prototype.hasOwnProperty.call(all, state)) return undefined;
  const login = decodePendingLogin((all as Record<string, unknown>)[state]);
  return login && now - login.createdAt < TRANSACTION_TTL_MS ? login : undefined;
}

/** A short, non-reversible key for a state (abandoned logins are looked up by it). */
export function stateKey(state: string): string {
  return createHash('sha256').update(state).digest('base64url').slice(0, 22);
}

/** The pending transactions of a session turned into abandoned logins (at regeneration). */
export function abandonPending(session: LiveSession, now: number): Record<string, StoredAbandonedLogin> | undefined {
  const pending = Object.entries(session.oauth?.tx ?? {}).filter(([, tx]) => typeof tx?.t === 'number' && now - tx.t < TRANSACTION_TTL_MS);
  if (pending.length === 0) return undefined;
  return Object.fromEntries(pending.map(([state, tx]: [string, StoredTransaction]) => [stateKey(state), { p: tx.p, r: tx.r, t: tx.t }]));
}

/** Take (single use) the abandoned login of `state`, if this session has a fresh one. */
export function takeAbandonedLogin(session: LiveSession, state: string, now: number): AbandonedLogin | undefined {
  const all = session.oauth?.x;
  const key = stateKey(state);
  if (!all?.[key]) return undefined;
  const found = decodeAbandonedLogin(all[key]);
  delete all[key];
  if (Object.keys(all).length === 0) delete session.oauth!.x;
  return found && now - found.createdAt < TRANSACTION_TTL_MS ? found : undefined;
}

/** Remove the transaction for `state` from this session (single use). */
export function consumeTransaction(session: LiveSession, state: string): void {
  const all = session.oauth?.tx;
  if (all && Object.prototype.hasOwnProperty.call(all, state)) delete all[state];
}

export function setLoginMarker(session: LiveSession, provider: string, marker: LoginMarker): void {
  const data = (session.oauth ??= {});
  data.p = { ...data.p, [provider]: encodeLoginMarker(marker) };
}

export function clearLoginMarker(session: LiveSession, provider: string): void {
  const p = session.oauth?.p;
  if (p && provider in p) {
    const { [provider]: _removed, ...rest } = p;
    session.oauth = { ...session.oauth, p: rest };
  }
}
