import type { Request } from 'express';
import type { Store } from 'express-session';
import type { DpopKey } from '../protocol/dpop.js';
import { loginIdTokenClaims, type OriginalIdTokenClaims } from '../protocol/id-token.js';
import type { TokenSet } from '../protocol/token-set.js';
import type { RefreshLock } from './lock.js';
import { addToLogoutIndex, logoutIndexKeysOf, unindexSession } from './logout-index.js';
import {
  abandonPending,
  addTransaction,
  peekTransaction,
  limitPendingOnlyLifetime,
  MAX_TRANSACTIONS,
  pendingLoginCount,
  requireSession,
  takeAbandonedLogin,
  type LiveSession,
} from './session-data.js';
import { decodeLoginMarker, encodeLoginMarker, type AbandonedLogin, type LoginMarker, type PendingLogin, type StoredMarker } from './session-format.js';
import { loadStoredLoginSession, RequestLoginSession, type LoginSession } from './login-session.js';
import { sessionCookieToClear, type SessionCookieToClear } from './session-cookie.js';
import { storeCall } from './store-call.js';
import { cookieExpiry, recordCookie, type CookieLike, type TokenRecord } from './token-record.js';
import { endedTokens, TokenRecords, type EndedTokens } from './token-records.js';
import { TransactionClaims, type ClaimResult } from './transactions.js';
import { BackchannelSessions } from './backchannel-sessions.js';
import { RequestBudget } from './deadline.js';
import { guardSessionSaves, saveLiveSession } from './host-patches.js';
import { sessionEndKey, tombstoneTtlMs, writeTombstone } from './tombstone.js';

/** A login replaced by a new login with the same provider: its tokens, subject and provider session (`sid`) when known. */
export interface ReplacedLogin extends EndedTokens {
  sub?: string;
  sid?: string;
}

function replacedLogin(record: TokenRecord, marker: LoginMarker | undefined): ReplacedLogin {
  const replaced: ReplacedLogin = endedTokens(record);
  if (marker?.sub !== undefined) replaced.sub = marker.sub;
  const sid = loginIdTokenClaims(record.idTokenClaims, record.tokens.idToken)?.sid ?? marker?.sid;
  if (sid !== undefined) replaced.sid = sid;
  return replaced;
}

/** The record cookie for the session of this request (its expiry plus slack). */
function cookieOf(session: LiveSession): CookieLike {
  const { cookie } = session;
  return recordCookie(cookie.expires ? cookie.expires.getTime() : undefined, cookie.originalMaxAge);
}

/** The index entries of a session: every provider login's `sid` and `sub`. */
async function indexSession(store: Store, sessionId: string, markers: Record<string, StoredMarker>, expiry: number | undefined, timeoutMs: number): Promise<void> {
  for (const [provider, marker] of Object.entries(markers)) {
    for (const key of logoutIndexKeysOf(provider, marker)) await addToLogoutIndex(store, key, sessionId, expiry, timeoutMs);
  }
}

/** What `completeLogin` writes for one provider. */
export interface NewLogin {
  provider: string;
  /** As stored: with the raw ID token only when it is kept (record-format.ts `withIdToken`). */
  tokens: TokenSet;
  idTokenClaims?: OriginalIdTokenClaims;
  marker: LoginMarker;
  /** The ID token's `sid` claim (the provider's session), when it had one. */
  sid?: string;
  /** RFC 9449: the login's DPoP key, kept in the token record. */
  dpop?: DpopKey;
}

/**
 * The one module that writes login state: pending transactions, login markers, token records
 * and logout tombstones. Routes and clients call these operations; nothing else touches
 * `req.session`, `req.sessionStore` or a store.
 */
export class LoginStore {
  readonly #claims: TransactionClaims;
  /** Each browser request's one budget for its store calls (SPEC §7), by request; only routes use it. */
  readonly #budgets = new WeakMap<Request, RequestBudget>();
  /** Back-channel logout's operations (backchannel-sessions.ts). */
  readonly backchannel: BackchannelSessions;

  constructor(
    private readonly timeoutMs: number,
    lock: RefreshLock,
    /** `backchannelLogout` on: each login is indexed by its `sid` and `sub` (logout-index.ts). */
    private readonly indexLogins = false,
  ) {
    this.#claims = new TransactionClaims(lock);
    this.backchannel = new BackchannelSessions(timeoutMs);
  }

  #budget(req: Request): RequestBudget {
    let budget = this.#budgets.get(req);
    if (!budget) this.#budgets.set(req, (budget = new RequestBudget(this.timeoutMs)));
    return budget;
  }

  /** The ms the next store call of `req` may take (throws 503 when the request's budget is used up). */
  #ms(req: Request, what: string): number {
    return this.#budget(req).remainingMs(what);
  }

  /**
   * Record a new login transaction in this session and save it before the redirect. A session
   * holding nothing else expires with the transaction (10 minutes). Returns the session id.
   */
  async begin(req: Request, state: string, login: PendingLogin): Promise<string> {
    const session = requireSession(req);
    guardSessionSaves(session, this.timeoutMs);
    addTransaction(session, state, login, login.createdAt);
    limitPendingOnlyLifetime(session);
    await saveLiveSession(session, this.#ms(req, 'save the session'));
    return session.id;
  }

  /**
   * Whether this session already holds the most pending logins it keeps (10, each for 10 minutes):
   * a new one would push out the oldest. With PAR the login start refuses instead of making another
   * authenticated request to the provider.
   */
  pendingLoginsFull(req: Request): boolean {
    return pendingLoginCount(req.session as LiveSession | undefined, Date.now()) >= MAX_TRANSACTIONS;
  }

  /** Where a tab whose login was abandoned by another tab's completed login should go (single use). */
  abandonedLogin(req: Request, state: string): AbandonedLogin | undefined {
    return takeAbandonedLogin(requireSession(req), state, Date.now());
  }

  /**
   * A form_post callback (its cross-site POST carries no SameSite=Lax session cookie): the pending
   * login of `state` in the session its binding cookie names, if `accept` (the binding check) takes
   * it; only then does the request continue in that session. Undefined when the session or the
   * login is gone or refused: nothing of that session reaches this request's response.
   */
  async boundLogin(req: Request, state: string, sessionId: string, accept: (login: PendingLogin) => boolean): Promise<PendingLogin | undefined> {
    const current = requireSession(req);
    const now = Date.now();
    if (current.id === sessionId) {
      const login = peekTransaction(current, state, now);
      return login && accept(login) ? login : undefined;
    }
    const store = req.sessionStore;
    const data = await storeCall<Record<string, unknown> | null>(this.#ms(req, 'read the session'), 'read the session', (cb) => store.get(sessionId, cb as never));
    const login = data ? peekTransaction(data as unknown as LiveSession, state, now) : undefined;
    if (!data || !login || !accept(login)) return undefined;
    req.sessionID = sessionId;
    store.createSession(req, data as never);
    return login;
  }

  /** Claim the transaction of a callback's `state`: once, atomically, only for its own provider. */
  claim(req: Request, state: string, provider: string, code: string): Promise<ClaimResult> {
    return this.#claims.claim(requireSession(req), state, provider, code, Date.now());
  }

  /**
   * Finish a login: end the pre-login session (tombstone, so no in-flight request writes it back
   * with its pending transactions), regenerate the session id without any pending transaction,
   * move the other providers' logins over, write the new token record, save. Returns the new
   * session id and the login it replaced with the same provider, if any (the caller revokes its tokens).
   */
  async completeLogin(req: Request, login: NewLogin): Promise<{ previous: ReplacedLogin | undefined; sessionId: string }> {
    const session = requireSession(req);
    const { sessionStore: store } = req;
    const records = new TokenRecords(store, this.#budget(req));
    const oldId = session.id;
    const ttl = tombstoneTtlMs(session.cookie.originalMaxAge);
    const markers: Record<string, StoredMarker> = { ...session.oauth?.p };
    const oldMarkers = { ...markers };
    const abandoned = abandonPending(session, Date.now());
    await writeTombstone(store, sessionEndKey(oldId), ttl, this.#ms(req, 'save the tombstone of the pre-login session'));
    let previous: TokenRecord | undefined;
    if (markers[login.provider]) previous = await records.end(oldId, login.provider, ttl);
    delete markers[login.provider];
    await storeCall(this.#ms(req, 'regenerate the session'), 'regenerate the session', (cb) => session.regenerate(cb));
    const fresh = requireSession(req);
    const cookie = cookieOf(fresh);
    const expiry = cookieExpiry(cookie);
    for (const name of Object.keys(markers)) {
      const moved = await records.end(oldId, name, ttl);
      if (!moved) {
        delete markers[name];
        continue;
      }
      await records.write(fresh.id, name, moved, cookie);
      markers[name] = { ...markers[name]!, exp: expiry };
    }
    const marker: LoginMarker = expiry === undefined ? { ...login.marker } : { ...login.marker, recordExpiresAt: expiry };
    if (this.indexLogins && login.sid !== undefined) marker.sid = login.sid;
    await records.write(
      fresh.id,
      login.provider,
      { v: 1, tokens: login.tokens, ...(login.idTokenClaims ? { idTokenClaims: login.idTokenClaims } : {}), ...(login.dpop ? { dpop: login.dpop } : {}) },
      cookie,
    );
    fresh.oauth = { p: { ...markers, [login.provider]: encodeLoginMarker(marker) } };
    if (abandoned) fresh.oauth.x = abandoned;
    if (this.indexLogins) {
      // The old session id is gone: the index lists the new one instead (and no longer the replaced login).
      await unindexSession(store, oldId, oldMarkers, this.#ms(req, 'update the logout index'), true);
      await indexSession(store, fresh.id, fresh.oauth.p!, expiry, this.#ms(req, 'update the logout index'));
    }
    await saveLiveSession(fresh, this.#ms(req, 'save the session'));
    return { previous: previous && replacedLogin(previous, decodeLoginMarker(oldMarkers[login.provider])), sessionId: fresh.id };
  }

  /**
   * A duplicate of a callback that another request completed: continue in the session that login
   * produced, so this response too carries the logged-in session cookie. Mirrors how
   * express-session itself loads a session (`store.createSession`).
   */
  async adoptSession(req: Request, sessionId: string): Promise<boolean> {
    const store = req.sessionStore;
    const data = await storeCall<Record<string, unknown> | null>(this.#ms(req, 'read the session'), 'read the session', (cb) => store.get(sessionId, cb as never));
    if (!data) return false;
    req.sessionID = sessionId;
    store.createSession(req, data as never);
    return true;
  }

  /** The logins of this request's session, bound to its store and the deadline (what `req.oauth` uses). */
  forRequest(req: Request): LoginSession {
    return new RequestLoginSession(req, this.timeoutMs).withLogoutIndex(this.indexLogins);
  }

  /** The logins of a stored session outside any request (`forSession`); undefined when there is no such session. */
  async forStoredSession(store: Store, sessionId: string): Promise<LoginSession | undefined> {
    return (await loadStoredLoginSession(store, sessionId, this.timeoutMs))?.withLogoutIndex(this.indexLogins);
  }

  /**
   * End the whole session: tombstone first (no concurrent save brings it back), then destroy.
   * Returns the session cookie for the caller to clear in the browser.
   */
  async endSession(req: Request): Promise<SessionCookieToClear | undefined> {
    const session = requireSession(req);
    const cookie = sessionCookieToClear(req);
    await writeTombstone(req.sessionStore, sessionEndKey(session.id), tombstoneTtlMs(session.cookie.originalMaxAge), this.#ms(req, 'save the tombstone of the session'));
    await storeCall(this.#ms(req, 'destroy the session'), 'destroy the session', (cb) => session.destroy(cb));
    return cookie;
  }
}
