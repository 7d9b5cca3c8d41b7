import type { Request } from 'express';
import type { Session, SessionData } from 'express-session';
import { SessionUnavailableError } from '../errors.js';

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
}

/** The `req.session.oauth` value. */
export interface OAuthSessionData {
  tx?: Record<string, LoginTransaction>;
  p?: Record<string, LoginMarker>;
}

export const MAX_TRANSACTIONS = 10;
export const TRANSACTION_TTL_MS = 10 * 60 * 1000;

type LiveSession = Session & Partial<SessionData>;

/** req.session, or a 503 when express-session could not load it (store down). */
export function requireSession(req: Request): LiveSession {
  const session = req.session as LiveSession | undefined;
  if (!session) throw new SessionUnavailableError();
  return session;
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

/** Remove and return the transaction for `state` (single use), if present and fresh. */
export function consumeTransaction(session: LiveSession, state: string, now: number): LoginTransaction | undefined {
  const all: unknown = session.oauth?.tx;
  if (typeof all !== 'object' || all === null || !Object.prototype.hasOwnProperty.call(all, state)) return undefined;
  const tx = (all as Record<string, LoginTransaction | undefined>)[state];
  delete (all as Record<string, unknown>)[state];
  if (typeof tx !== 'object' || tx === null || typeof tx.t !== 'number' || typeof tx.p !== 'string' || typeof tx.r !== 'string') return undefined;
  if (now - tx.t >= TRANSACTION_TTL_MS) return undefined;
  return tx;
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

function promisify(run: (cb: (err?: unknown) => void) => void, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    run((err) => (err ? reject(new SessionUnavailableError(`Could not ${what} the session; the session store failed.`, err)) : resolve()));
  });
}

export function saveSession(session: LiveSession): Promise<void> {
  return promisify((cb) => session.save(cb), 'save');
}

export function regenerateSession(req: Request): Promise<void> {
  return promisify((cb) => requireSession(req).regenerate(cb), 'regenerate');
}

export function destroySession(req: Request): Promise<void> {
  return promisify((cb) => requireSession(req).destroy(cb), 'destroy');
}
