import { createHash } from 'node:crypto';
import type { Request } from 'express';
import type { Session, SessionData } from 'express-session';
import { OAUTH_CODES, OAuthError, SessionUnavailableError } from '../errors.js';

/** One login in progress, keyed by its `state` (several tabs may log in at once). */
export interface LoginTransaction {
  /** provider name */
  p: string;
  /** PKCE code_verifier */
  v?: string;
  /** OIDC nonce */
  n?: string;
  /** returnTo (validated same-origin path) */
  r: string;
  /** created at, epoch ms */
  t: number;
  /** `max_age` sent, in seconds: the ID token's `auth_time` is checked against it. */
  m?: number;
  /** What a step-up or incremental login asked for (requireAuth); absent for ordinary logins. */
  u?: StepUpRequest;
}

/**
 * What a login started by `requireAuth` asked the provider for, kept on the login it produced so
 * the same request is never repeated in a loop when the provider does not grant it.
 */
export interface StepUpRequest {
  /** The scope requested (space-separated) when it was not the configured one. */
  s?: string;
  /** `acr_values` requested. */
  a?: string;
  /** `max_age` requested, seconds. */
  m?: number;
}

/** What the session itself holds: never tokens, only this login marker per provider. */
export interface LoginMarker {
  /** Subject, when known (ID token or configured userinfo). */
  sub?: string;
  /** Verified ID-token claims, when known. */
  claims?: Record<string, unknown>;
  /** Login time, epoch ms. */
  at: number;
  /** Expiry of the token record in the store (epoch ms), to extend it when the session rolls. */
  exp?: number;
  /** The ID token's `acr` (authentication context class), when it had one. */
  acr?: string;
  /** The ID token's `auth_time` (epoch seconds), when it had one. */
  authTime?: number;
  /** The step-up request this login answered (from its transaction). */
  u?: StepUpRequest;
  /** The provider's session id (ID token `sid`), kept only with `backchannelLogout` (its logout index). */
  sid?: string;
}

/**
 * The marker plus what step-up checks need: `acr` and `auth_time` of the verified ID token, and
 * the step-up request of the login's transaction. Adds nothing for an ordinary login whose ID token
 * has neither claim.
 */
export function withAuthenticationContext(marker: LoginMarker, idTokenClaims: Record<string, unknown> | undefined, tx: LoginTransaction): LoginMarker {
  const out = { ...marker };
  if (typeof idTokenClaims?.acr === 'string') out.acr = idTokenClaims.acr;
  if (typeof idTokenClaims?.auth_time === 'number' && Number.isFinite(idTokenClaims.auth_time)) out.authTime = idTokenClaims.auth_time;
  if (tx.u) out.u = tx.u;
  return out;
}

/** The `req.session.oauth` value. */
export interface OAuthSessionData {
  tx?: Record<string, LoginTransaction>;
  p?: Record<string, LoginMarker>;
  /**
   * Logins that were pending when another one completed (a second tab), by a hash of their state:
   * only where to send that tab back. They cannot be completed (no verifier), so a transaction
   * planted before login can never log this session in.
   */
  x?: Record<string, AbandonedLogin>;
}

export interface AbandonedLogin {
  p: string;
  r: string;
  t: number;
}

export const MAX_TRANSACTIONS = 10;
export const TRANSACTION_TTL_MS = 10 * 60 * 1000;

export type LiveSession = Session & Partial<SessionData>;

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

/** The login marker, if the session holds a well-formed one (anything else reads as logged out). */
export function loginMarker(session: LiveSession | undefined, provider: string): LoginMarker | undefined {
  const marker: unknown = session?.oauth?.p?.[provider];
  return typeof marker === 'object' && marker !== null && typeof (marker as LoginMarker).at === 'number' ? (marker as LoginMarker) : undefined;
}

export function addTransaction(session: LiveSession, state: string, tx: LoginTransaction, now: number): void {
  if (typeof session.oauth !== 'object' || session.oauth === null) session.oauth = {};
  const data = session.oauth;
  const live = Object.entries(typeof data.tx === 'object' && data.tx !== null ? data.tx : {})
    .filter(([, t]) => typeof t?.t === 'number')
    .filter(([, t]) => now - t.t < TRANSACTION_TTL_MS)
    .sort(([, a], [, b]) => b.t - a.t)
    .slice(0, MAX_TRANSACTIONS - 1);
  data.tx = Object.fromEntries([[state, tx], ...live]);
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

/** The transaction for `state`, if present, well-formed and fresh (not removed). */
export function peekTransaction(session: LiveSession, state: string, now: number): LoginTransaction | undefined {
  const all: unknown = session.oauth?.tx;
  if (typeof all !== 'object' || all === null || !Object.prototype.hasOwnProperty.call(all, state)) return undefined;
  const tx = (all as Record<string, LoginTransaction | undefined>)[state];
  if (typeof tx !== 'object' || tx === null || typeof tx.t !== 'number' || typeof tx.p !== 'string' || typeof tx.r !== 'string') return undefined;
  if (tx.m !== undefined && typeof tx.m !== 'number') return undefined;
  if (now - tx.t >= TRANSACTION_TTL_MS) return undefined;
  return tx;
}

/** A short, non-reversible key for a state (abandoned logins are looked up by it). */
export function stateKey(state: string): string {
  return createHash('sha256').update(state).digest('base64url').slice(0, 22);
}

/** The pending transactions of a session turned into abandoned logins (at regeneration). */
export function abandonPending(session: LiveSession, now: number): Record<string, AbandonedLogin> | undefined {
  const pending = Object.entries(session.oauth?.tx ?? {}).filter(([, tx]) => typeof tx?.t === 'number' && now - tx.t < TRANSACTION_TTL_MS);
  if (pending.length === 0) return undefined;
  return Object.fromEntries(pending.map(([state, tx]) => [stateKey(state), { p: tx.p, r: tx.r, t: tx.t }]));
}

/** Take (single use) the abandoned login of `state`, if this session has a fresh one. */
export function takeAbandonedLogin(session: LiveSession, state: string, now: number): AbandonedLogin | undefined {
  const all = session.oauth?.x;
  const key = stateKey(state);
  const found = all?.[key];
  if (!all || !found) return undefined;
  delete all[key];
  if (Object.keys(all).length === 0) delete session.oauth!.x;
  return now - found.t < TRANSACTION_TTL_MS ? found : undefined;
}

/** Remove the transaction for `state` from this session (single use). */
export function consumeTransaction(session: LiveSession, state: string): void {
  const all = session.oauth?.tx;
  if (all && Object.prototype.hasOwnProperty.call(all, state)) delete all[state];
}

export function setLoginMarker(session: LiveSession, provider: string, marker: LoginMarker): void {
  const data = (session.oauth ??= {});
  data.p = { ...data.p, [provider]: marker };
}

export function clearLoginMarker(session: LiveSession, provider: string): void {
  const p = session.oauth?.p;
  if (p && provider in p) {
    const { [provider]: _removed, ...rest } = p;
    session.oauth = { ...session.oauth, p: rest };
  }
}
