import type { Request } from 'express';
import type { Store } from 'express-session';
import { SessionUnavailableError } from '../errors.js';
import { logoutIndexKey, logoutTokenSeen, readLogoutIndex, recordLogoutToken, removeFromLogoutIndex, replayKey, unindexSession, type LogoutSubject } from './logout-index.js';
import { storedMarker, type LiveSession } from './session-data.js';
import type { StoredMarker } from './session-format.js';
import { storeCall } from './store-call.js';
import type { CookieLike } from './token-record.js';
import { endedTokens, TokenRecords, type EndedTokens } from './token-records.js';
import { hasTombstone, sessionEndKey, tombstoneTtlMs, writeTombstone } from './tombstone.js';

type StoredSession = LiveSession & { cookie: CookieLike };

/** One login that a back-channel logout ended: its tokens for the caller to revoke. */
export interface EndedLogin {
  sessionId: string;
  provider: string;
  ended: EndedTokens;
}

/** A stale index entry (the session logged in again as someone else) does not end it. */
function matches(marker: StoredMarker, subject: { sid?: string; sub?: string }): boolean {
  if (subject.sid !== undefined && marker.sid !== subject.sid) return false;
  return subject.sub === undefined || marker.sub === subject.sub;
}

/**
 * The login store's back-channel part (OIDC Back-Channel Logout 1.0): ending the logins of a
 * provider's `sid`/`sub` in sessions of any process, outside the browser's request, and the
 * replay record of logout tokens. A server-to-server request that may end many sessions: each
 * store call gets the whole `httpTimeoutMs` (a failure answers 503 and the provider retries).
 */
export class BackchannelSessions {
  constructor(private readonly timeoutMs: number) {}

  /**
   * OIDC Back-Channel Logout: end this provider's login in every session the index lists for its
   * `sid` (or, without one, its `sub`) whose login still matches. A session with no other login left
   * (or any session, with `wholeSession`) ends the way logout ends it: tombstone, every login's
   * record ended, destroyed. Otherwise only this provider's login ends: its record tombstoned and
   * deleted, its marker removed from the stored session (see {@link BackchannelSessions.#removeMarker}). The
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
