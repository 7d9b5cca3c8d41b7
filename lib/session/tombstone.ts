import type { Store } from 'express-session';
import { storeCall } from './store-call.js';

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
 *
 * The save guard itself is a host patch (of express-session's `Session.prototype.save`): see
 * host-patches.ts.
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
  await storeCall(timeoutMs, 'save the tombstone of an ended login', (cb) => store.set(key, stored as never, cb));
}

export async function hasTombstone(store: Store, key: string, timeoutMs: number): Promise<boolean> {
  const stored = await storeCall<{ oauthEnded?: unknown } | null>(timeoutMs, 'read the tombstone of an ended login', (cb) => store.get(key, cb as never));
  return typeof stored?.oauthEnded === 'number';
}
