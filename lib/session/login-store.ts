import type { Request } from 'express';
import type { Store } from 'express-session';
import type { DpopKey } from '../protocol/dpop.js';
import type { OriginalIdTokenClaims } from '../protocol/id-token.js';
import type { TokenSet } from '../protocol/token-set.js';
import type { RefreshLock } from './lock.js';
import { SessionUnavailableError } from '../errors.js';
import {
  addToLogoutIndex,
  logoutIndexKey,
  logoutIndexKeysOf,
  logoutTokenSeen,
  readLogoutIndex,
  recordLogoutToken,
  removeFromLogoutIndex,
  replayKey,
  unindexSession,
  type LogoutSubject,
} from './logout-index.js';
import { abandonPending, addTransaction, limitPendingOnlyLifetime, requireSession, storedMarker, takeAbandonedLogin, type LiveSession } from './session-data.js';
import { encodeLoginMarker, type AbandonedLogin, type LoginMarker, type PendingLogin, type StoredMarker } from './session-format.js';
import { loadStoredLoginSession, RequestLoginSession, type LoginSession } from './login-session.js';
import { sessionCookieToClear, type SessionCookieToClear } from './session-cookie.js';
import { storeCall } from './store-call.js';
import { cookieExpiry, recordCookie, type CookieLike, type TokenRecord } from './token-record.js';
import { endedTokens, TokenRecords, type EndedTokens } from './token-records.js';
import { TransactionClaims, type ClaimResult } from './transactions.js';
import { guardSessionSaves, saveLiveSession } from './host-patches.js';
import { hasTombstone, sessionEndKey, tombstoneTtlMs, writeTombstone } from './tombstone.js';

/** The record cookie for the session of this request (its expiry plus slack). */
function cookieOf(session: LiveSession): CookieLike {
  const { cookie } = session;
  return recordCookie(cookie.expires ? cookie.expires.getTime() : undefined, cookie.originalMaxAge);
}

type StoredSession = LiveSession & { cookie: CookieLike };

/** The index entries of a session: every provider login's `sid` and `sub`. */
async function indexSession(store: Store, sessionId: string, markers: Record<string, StoredMarker>, expiry: number | undefined, timeoutMs: number): Promise<void> {
  for (const [provider, marker] of Object.entries(markers)) {
    for (const key of logoutIndexKeysOf(provider, marker)) await addToLogoutIndex(store, key, sessionId, expiry, timeoutMs);
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
    const oldMarkers = { ...markers };
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
    if (this.indexLogins) {
      // The old session id is gone: the index lists the new one instead (and no longer the replaced login).
      await unindexSession(store, oldId, oldMarkers, this.timeoutMs, true);
      await indexSession(store, fresh.id, fresh.oauth.p!, expiry, this.timeoutMs);
    }
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
    await writeTombstone(req.sessionStore, sessionEndKey(session.id), tombstoneTtlMs(session.cookie.originalMaxAge), this.timeoutMs);
    await storeCall(this.timeoutMs, 'destroy the session', (cb) => session.destroy(cb));
    return cookie;
  }

  /**
   * OIDC Back-Channel Logout: end this provider's login in every session the index lists for its
   * `sid` (or, without one, its `sub`) whose login still matches. A session with no other login left
   * (or any session, with `wholeSession`) ends the way logout ends it: tombstone, every login's
   * record ended, destroyed. Otherwise only this provider's login ends: its record tombstoned and
   * deleted, its marker removed from the stored session (see {@link LoginStore.#removeMarker}). The
   * session leaves the index entries of every login that ended. Works from any process (all in the
   * store). Returns the ended logins' tokens, for the caller to revoke.
   */
  async endSessionsOf(req: Request, provider: string, subject: { sid?: string; sub?: string }, wholeSession = false): Promise<EndedLogin[]> {
    const store = req.sessionStore;
    if (!store) throw new SessionUnavailableError();
    const subjectKey: LogoutSubject = subject.sid !== undefined ? { kind: 'sid', value: subject.sid } : { kind: 'sub', value: subject.sub! };
    const indexKey = logoutIndexKey(provider, subjectKey);
    const records = new TokenRecords(store, this.timeoutMs);
    const ended: EndedLogin[] = [];
    for (const sessionId of await readLogoutIndex(store, indexKey, this.timeoutMs)) {
      const data = await storeCall<StoredSession | null>(this.timeoutMs, 'read the session', (cb) => store.get(sessionId, cb as never));
      const marker = storedMarker(data ?? undefined, provider);
      if (!data || !marker || !matches(marker, subject)) {
        // Gone, or no longer this login: a stale entry.
        await removeFromLogoutIndex(store, indexKey, sessionId, this.timeoutMs);
        continue;
      }
      const markers: Record<string, StoredMarker> = { ...data.oauth?.p };
      const ttl = tombstoneTtlMs(data.cookie?.originalMaxAge);
      if (wholeSession || Object.keys(markers).length === 1) {
        await writeTombstone(store, sessionEndKey(sessionId), ttl, this.timeoutMs);
        for (const name of Object.keys(markers)) {
          const record = await records.end(sessionId, name, ttl);
          if (record) ended.push({ sessionId, provider: name, ended: endedTokens(record) });
        }
        await storeCall(this.timeoutMs, 'destroy the session', (cb) => store.destroy(sessionId, cb));
        await unindexSession(store, sessionId, markers, this.timeoutMs);
        continue;
      }
      const record = await records.end(sessionId, provider, ttl);
      await this.#removeMarker(store, sessionId, provider);
      await unindexSession(store, sessionId, { [provider]: marker }, this.timeoutMs);
      if (record) ended.push({ sessionId, provider, ended: endedTokens(record) });
    }
    return ended;
  }

  /**
   * Remove one ended login's marker from a stored session, outside any request, with the rules of
   * the session save guard (host-patches.ts): its record is tombstoned already (so a request in
   * flight that saves the session with the marker drops it: the guard strips markers whose record
   * has a tombstone); the session is written back only when it has no session tombstone, checked
   * before and after the write (a session that ended meanwhile is destroyed again).
   */
  async #removeMarker(store: Store, sessionId: string, provider: string): Promise<void> {
    const endKey = sessionEndKey(sessionId);
    const data = await storeCall<StoredSession | null>(this.timeoutMs, 'read the session', (cb) => store.get(sessionId, cb as never));
    const markers = data?.oauth?.p;
    if (!data || !markers || !Object.prototype.hasOwnProperty.call(markers, provider)) return;
    if (await hasTombstone(store, endKey, this.timeoutMs)) return;
    delete markers[provider];
    await storeCall(this.timeoutMs, 'save the session', (cb) => store.set(sessionId, data as never, cb));
    if (await hasTombstone(store, endKey, this.timeoutMs)) await storeCall(this.timeoutMs, 'destroy the session', (cb) => store.destroy(sessionId, cb));
  }

  /** True when a logout token's `jti` was recorded: its sessions ended already (a replay). */
  async logoutTokenSeen(req: Request, issuer: string, jti: string): Promise<boolean> {
    if (!req.sessionStore) throw new SessionUnavailableError();
    return logoutTokenSeen(req.sessionStore, replayKey(issuer, jti), this.timeoutMs);
  }

  /** Record a logout token's `jti` until `until` (epoch ms), once its sessions ended (only then: a failed delivery can be retried). */
  async recordLogoutToken(req: Request, issuer: string, jti: string, until: number): Promise<void> {
    if (!req.sessionStore) throw new SessionUnavailableError();
    await recordLogoutToken(req.sessionStore, replayKey(issuer, jti), until, this.timeoutMs);
  }
}
