import type { Store } from 'express-session';
import { storeCall } from './store-call.js';
import { decodeRecord, encodeRecord, type CookieLike, type StoredRecord, type TokenRecord } from './record-format.js';

/**
 * The token set of one login lives in its own record of the session store, under
 * `<sid>:oauth:<provider>`, with a version number. The session itself only holds a login marker,
 * so a request that saves a stale copy of the session cannot write an old refresh token back
 * (express-openid-connect #408). The stored format is record-format.ts's.
 */
export type { CookieLike, TokenRecord };

export function recordKey(sessionId: string, provider: string): string {
  return `${sessionId}:oauth:${provider}`;
}

export async function readRecord(store: Store, key: string, timeoutMs: number): Promise<TokenRecord | undefined> {
  const stored = await storeCall<StoredRecord | null>(timeoutMs, 'read tokens', (cb) => store.get(key, cb as never));
  return decodeRecord(stored);
}

/** Write the record with the session's cookie, so it expires with the session. */
export async function writeRecord(store: Store, key: string, record: TokenRecord, cookie: CookieLike, timeoutMs: number): Promise<void> {
  await storeCall(timeoutMs, 'save tokens', (cb) => store.set(key, encodeRecord(record, cookie) as never, cb));
}

export async function deleteRecord(store: Store, key: string, timeoutMs: number): Promise<void> {
  await storeCall(timeoutMs, 'delete tokens', (cb) => store.destroy(key, cb));
}

/** Extend the record's lifetime to the session's (rolling sessions); uses touch() when the store has it. */
export async function touchRecord(store: Store, key: string, record: TokenRecord, cookie: CookieLike, timeoutMs: number): Promise<void> {
  if (typeof store.touch === 'function') {
    await storeCall(timeoutMs, 'extend tokens', (cb) => store.touch!(key, encodeRecord(record, cookie) as never, cb as never));
  } else {
    await writeRecord(store, key, record, cookie, timeoutMs);
  }
}

/** The cookie expiry as epoch ms (undefined for browser-session cookies). */
export function cookieExpiry(cookie: CookieLike): number | undefined {
  if (!cookie.expires) return undefined;
  return new Date(cookie.expires).getTime();
}

/**
 * How much longer than its session a token record is kept: the record is extended only once the
 * session's expiry comes within half of this, so a rolling session costs one extra store write
 * per slack period instead of one per request, and the record always outlives the session.
 */
export function recordSlackMs(maxAgeMs: number): number {
  return Math.min(Math.max(maxAgeMs / 10, 60_000), 3_600_000);
}

/** A record cookie that expires at `expiresAt` (the login marker's `exp`). */
export function cookieUntil(expiresAt: number, maxAgeMs: number | null | undefined): CookieLike {
  return { expires: new Date(expiresAt), originalMaxAge: maxAgeMs ?? null };
}

/** The cookie stored with a token record: the session's expiry plus slack. */
export function recordCookie(sessionExpiresAt: number | undefined, maxAgeMs: number | null | undefined): CookieLike {
  if (sessionExpiresAt === undefined || !maxAgeMs) return { expires: null, originalMaxAge: maxAgeMs ?? null };
  const expires = new Date(sessionExpiresAt + recordSlackMs(maxAgeMs));
  return { expires, originalMaxAge: maxAgeMs };
}
