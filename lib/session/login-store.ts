import type { Request } from 'express';
import type { Store } from 'express-session';
import type { DpopKey } from '../protocol/dpop.js';
import type { OriginalIdTokenClaims } from '../protocol/id-token.js';
import type { TokenSet } from '../protocol/token-set.js';
import type { RefreshLock } from './lock.js';
import { SessionUnavailableError } from '../errors.js';
import { addToLogoutIndex, logoutIndexKey, readLogoutIndex, rememberLogoutToken, replayKey, type LogoutSubject } from './logout-index.js';
import { abandonPending, addTransaction, limitPendingOnlyLifetime, MAX_TRANSACTIONS, pendingLoginCount, requireSession, storedMarker, takeAbandonedLogin, type LiveSession } from './session-data.js';
import { encodeLoginMarker, type AbandonedLogin, type LoginMarker, type PendingLogin, type StoredMarker } from './session-format.js';
import { loadStoredLoginSession, RequestLoginSession, type LoginSession } from './login-session.js';
import { sessionCookieToClear, type SessionCookieToClear } from './session-cookie.js';
import { storeCall } from './store-call.js';
import { cookieExpiry, recordCookie, type CookieLike, type TokenRecord } from './token-record.js';
import { endedTokens, TokenRecords, type EndedTokens } from './token-records.js';
import { TransactionClaims, type ClaimResult } from './transactions.js';
import { guardSessionSaves, saveLiveSession } from './host-patches.js';
import { sessionEndKey, tombstoneTtlMs, writeTombstone } from './tombstone.js';

/** The record cookie for the session of this request (its expiry plus slack). */
function cookieOf(session: LiveSession): CookieLike {
  const { cookie } = session;
  return recordCookie(cookie.expires ? cookie.expires.getTime() : undefined, cookie.originalMaxAge);
}

type StoredSession = LiveSession & { cookie: CookieLike };

/** The index entries of a session: every provider login's `sid` and `sub`. */
async function indexSession(store: Store, sessionId: string, markers: Record<string, StoredMarker>, expiry: number | undefined, timeoutMs: number): Promise<void> {
  for (const [provider, marker] of Object.entries(markers)) {
    if (marker.sid !== undefined) await addToLogoutIndex(store, logoutIndexKey(provider, { kind: 'sid', value: marker.sid }), sessionId, expiry, timeoutMs);
    if (marker.sub !== undefined) await addToLogoutIndex(store, logoutIndexKey(provider, { kind: 'sub', value: marker.sub }), sessionId, expiry, timeoutMs);
  }
}

/** A stale index entry (the session logged in again as someone else) does not end it. */
function matches(marker: StoredMarker, subject: { sid?: string; sub?: string }): boolean {
  if (subject.sid !== undefined && marker.sid !== subject.sid) return false;
  return subject.sub === undefined || marker.sub === subject.sub;
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

/** One login that a back-channel logout ended: its tokens for the caller to revoke. */
export interface EndedLogin {
  sessionId: string;
  provider: string;
  ended: EndedTokens;
}

/**
 * The one module that writes login state: pending transactions, login markers, token records
 * and logout tombstones. Routes and clients call these operations; nothing else touches
 * `req.session`, `req.sessionStore` or a store.
 */
export class LoginStore {
  readonly #claims: TransactionClaims;

  constructor(
    private readonly timeoutMs: number,
    lock: RefreshLock,
    /** `backchannelLogout` on: each login is indexed by its `sid` and `sub` (logout-index.ts). */
    private readonly indexLogins = false,
  ) {
    this.#claims = new TransactionClaims(lock);
  }

  /**
   * Record a new login transaction in this session and save it before the redirect. A session
   * holding nothing else expires with the transaction (10 minutes).
   */
  async begin(req: Request, state: string, login: PendingLogin): Promise<void> {
    const session = requireSession(req);
    guardSessionSaves(session, this.timeoutMs);
    addTransaction(session, state, login, login.createdAt);
    limitPendingOnlyLifetime(session);
    await saveLiveSession(session, this.timeoutMs);
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

  /** Claim the transaction of a callback's `state`: once, atomically, only for its own provider. */
  claim(req: Request, state: string, provider: string, code: string): Promise<ClaimResult> {
    return this.#claims.claim(requireSession(req), state, provider, code, Date.now());
  }

  /**
   * Finish a login: end the pre-login session (tombstone, so no in-flight request writes it back
   * with its pending transactions), regenerate the session id without any pending transaction,
   * move the other providers' logins over, write the new token record, save. Returns the new
   * session id and the tokens of a previous login with the same provider (the caller revokes them).
   */
  async completeLogin(req: Request, login: NewLogin): Promise<{ previous: EndedTokens | undefined; sessionId: string }> {
    const session = requireSession(req);
    const { sessionStore: store } = req;
    const records = new TokenRecords(store, this.timeoutMs);
    const oldId = session.id;
    const ttl = tombstoneTtlMs(session.cookie.originalMaxAge);
    const markers: Record<string, StoredMarker> = { ...session.oauth?.p };
    const abandoned = abandonPending(session, Date.now());
    await writeTombstone(store, sessionEndKey(oldId), ttl, this.timeoutMs);
    let previous: TokenRecord | undefined;
    if (markers[login.provider]) previous = await records.end(oldId, login.provider, ttl);
    delete markers[login.provider];
    await storeCall(this.timeoutMs, 'regenerate the session', (cb) => session.regenerate(cb));
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
    if (this.indexLogins) await indexSession(store, fresh.id, fresh.oauth.p!, expiry, this.timeoutMs);
    await saveLiveSession(fresh, this.timeoutMs);
    return { previous: previous && endedTokens(previous), sessionId: fresh.id };
  }

  /**
   * A duplicate of a callback that another request completed: continue in the session that login
   * produced, so this response too carries the logged-in session cookie. Mirrors how
   * express-session itself loads a session (`store.createSession`).
   */
  async adoptSession(req: Request, sessionId: string): Promise<boolean> {
    const store = req.sessionStore;
    const data = await storeCall<Record<string, unknown> | null>(this.timeoutMs, 'read the session', (cb) => store.get(sessionId, cb as never));
    if (!data) return false;
    req.sessionID = sessionId;
    store.createSession(req, data as never);
    return true;
  }

  /** The logins of this request's session, bound to its store and the deadline (what `req.oauth` uses). */
  forRequest(req: Request): LoginSession {
    return new RequestLoginSession(req, this.timeoutMs);
  }

  /** The logins of a stored session outside any request (`forSession`); undefined when there is no such session. */
  forStoredSession(store: Store, sessionId: string): Promise<LoginSession | undefined> {
    return loadStoredLoginSession(store, sessionId, this.timeoutMs);
  }

  /**
   * End the whole session: tombstone first (no concurrent save brings it back), then destroy.
   * Returns the session cookie for the caller to clear in the browser.
   */
  async endSession(req: Request): Promise<SessionCookieToClear | undefined> {
    const session = requireSession(req);
    const cookie = sessionCookieToClear(req);
    await writeTombstone(req.sessionStore, sessionEndKey(session.id), tombstoneTtlMs(session.cookie.originalMaxAge), this.timeoutMs);
    await storeCall(this.timeoutMs, 'destroy the session', (cb) => session.destroy(cb));
    return cookie;
  }

  /**
   * OIDC Back-Channel Logout: end every session the index lists for this provider's `sid` (or,
   * without one, its `sub`) whose login still matches, the way logout does: tombstone the session,
   * end each login's token record, destroy the session. Works from any process (all in the store).
   * Returns the ended logins' tokens, for the caller to revoke.
   */
  async endSessionsOf(req: Request, provider: string, subject: { sid?: string; sub?: string }): Promise<EndedLogin[]> {
    const store = req.sessionStore;
    if (!store) throw new SessionUnavailableError();
    const key: LogoutSubject = subject.sid !== undefined ? { kind: 'sid', value: subject.sid } : { kind: 'sub', value: subject.sub! };
    const records = new TokenRecords(store, this.timeoutMs);
    const ended: EndedLogin[] = [];
    for (const sessionId of await readLogoutIndex(store, logoutIndexKey(provider, key), this.timeoutMs)) {
      const data = await storeCall<StoredSession | null>(this.timeoutMs, 'read the session', (cb) => store.get(sessionId, cb as never));
      const marker = storedMarker(data ?? undefined, provider);
      if (!data || !marker || !matches(marker, subject)) continue;
      const ttl = tombstoneTtlMs(data.cookie?.originalMaxAge);
      await writeTombstone(store, sessionEndKey(sessionId), ttl, this.timeoutMs);
      for (const name of Object.keys(data.oauth?.p ?? {})) {
        const record = await records.end(sessionId, name, ttl);
        if (record) ended.push({ sessionId, provider: name, ended: endedTokens(record) });
      }
      await storeCall(this.timeoutMs, 'destroy the session', (cb) => store.destroy(sessionId, cb));
    }
    return ended;
  }

  /** Record a logout token's `jti` until `until` (epoch ms); false when it was seen before (replay). */
  async acceptLogoutToken(req: Request, issuer: string, jti: string, until: number): Promise<boolean> {
    if (!req.sessionStore) throw new SessionUnavailableError();
    return rememberLogoutToken(req.sessionStore, replayKey(issuer, jti), until, this.timeoutMs);
  }
}
