import type { Session, Store } from 'express-session';
import { debugFor } from '../debug.js';
import { storeCall } from './store-call.js';

const log = debugFor('store');

/**
 * Logout is final. A request already in flight when a session ends (logout, or the regeneration
 * at login) still holds the old session and saves it when it finishes (a route that writes
 * `req.session`, or `resave: true`), which would bring the ended login back. So ending a
 * session or a login first writes a small tombstone under a derived id; every save of a
 * session that holds our data checks the tombstone before and after writing, and every token
 * record write (refresh) checks its record's tombstone after writing.
 *
 * Why before AND after: the writer's check and write are two store calls, so a logout can land
 * between them. The ender writes the tombstone first and then deletes; the writer writes and
 * then checks. Whatever the interleaving, either the ender's delete comes after the write, or the
 * writer's check sees the tombstone and deletes what it wrote.
 */

/** Tombstone of a whole session (logged out, or replaced by a regenerated id at login). */
export function sessionEndKey(sessionId: string): string {
  return `${sessionId}:oauth:ended`;
}

/** Tombstone of one login's token record (that login ended: logout, re-login, session end). */
export function recordEndKey(recordKey: string): string {
  return `${recordKey}:ended`;
}

/** How long a tombstone must outlive the requests that were in flight when it was written. */
export function tombstoneTtlMs(sessionMaxAgeMs: number | null | undefined): number {
  const DAY = 86_400_000;
  return Math.min(Math.max(sessionMaxAgeMs ?? DAY, 10 * 60_000), DAY);
}

export async function writeTombstone(store: Store, key: string, ttlMs: number, timeoutMs: number, now = Date.now()): Promise<void> {
  const stored = { cookie: { expires: new Date(now + ttlMs), originalMaxAge: ttlMs }, oauthEnded: now };
  await storeCall(timeoutMs, 'save the logout marker', (cb) => store.set(key, stored as never, cb));
}

export async function hasTombstone(store: Store, key: string, timeoutMs: number): Promise<boolean> {
  const stored = await storeCall<{ oauthEnded?: unknown } | null>(timeoutMs, 'read the logout marker', (cb) => store.get(key, cb as never));
  return typeof stored?.oauthEnded === 'number';
}

type SaveFn = (this: Session, cb?: (err?: unknown) => void) => Session;
type GuardedProto = { save: SaveFn; [ORIGINAL_SAVE]?: SaveFn };
const ORIGINAL_SAVE = Symbol.for('express-oauth2-session.originalSave');

/** Sessions carrying our data (a login marker or a pending transaction) are the ones to guard. */
function holdsLoginState(session: Session): boolean {
  const data = (session as Session & { oauth?: unknown }).oauth;
  return typeof data === 'object' && data !== null;
}

/**
 * Wrap `save()` of express-session's `Session` class (once per process, found through the first
 * session seen) so that a session which ended while a request held it is not written back.
 * Sessions without our data are saved exactly as before, with no extra store call.
 */
export function guardSessionSaves(session: Session, timeoutMs: number): void {
  const proto = Object.getPrototypeOf(session) as GuardedProto;
  if (!proto || proto[ORIGINAL_SAVE] || typeof proto.save !== 'function') return;
  const original = proto.save;
  Object.defineProperty(proto, ORIGINAL_SAVE, { value: original });
  proto.save = function guardedSave(this: Session, cb) {
    const store = (this as Session & { req?: { sessionStore?: Store } }).req?.sessionStore;
    if (!store || !holdsLoginState(this)) return original.call(this, cb);
    const key = sessionEndKey(this.id);
    const reportDone = (err?: unknown) => cb?.(err);
    hasTombstone(store, key, timeoutMs).then((ended) => {
      if (ended) {
        log('not saving session that ended meanwhile');
        return reportDone();
      }
      const afterWrite = (err?: unknown) => {
        if (err) return reportDone(err);
        hasTombstone(store, key, timeoutMs)
          .then((endedNow) => (endedNow ? storeCall(timeoutMs, 'destroy the session', (done) => store.destroy(this.id, done)).then(() => undefined) : undefined))
          .then(() => reportDone(), reportDone);
      };
      try {
        original.call(this, afterWrite);
      } catch (err) {
        reportDone(err);
      }
    }, reportDone);
    return this;
  };
}

/** Save without the guard: for the package's own saves of a session it knows is live. */
export function saveLiveSession(session: Session, timeoutMs: number): Promise<void> {
  const proto = Object.getPrototypeOf(session) as GuardedProto;
  const save = proto[ORIGINAL_SAVE] ?? session.save;
  return storeCall(timeoutMs, 'save the session', (cb) => save.call(session, cb)).then(() => undefined);
}
