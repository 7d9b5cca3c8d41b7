import { createHash } from 'node:crypto';
import type { Store } from 'express-session';
import { storeCall } from './store-call.js';

/**
 * OIDC Back-Channel Logout names a provider's session (`sid`) or user (`sub`), not our session
 * ids; and the logout token reaches one process of many. So each login adds its session id to an
 * index kept in the session store itself, under derived ids (`oauth-bcl:<provider>:sid:<sid>` and
 * `…:sub:<sub>`), each entry living as long as its session; every process can then find and end
 * the sessions. Logout tokens' `jti`s are remembered there too (replay), for the token's lifetime.
 */

export type LogoutSubject = { kind: 'sid' | 'sub'; value: string };

interface StoredIndex {
  cookie: { expires: Date | string | null; originalMaxAge: number | null };
  /** session id → expiry (epoch ms; 0: a browser-session cookie, no known expiry). */
  oauthSessions: Record<string, number>;
}

/** Hashed so that no store key carries a raw subject or provider session id. */
function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 32);
}

export function logoutIndexKey(provider: string, subject: LogoutSubject): string {
  return `oauth-bcl:${provider}:${subject.kind}:${digest(subject.value)}`;
}

export function replayKey(issuer: string, jti: string): string {
  return `oauth-bcl:jti:${digest(`${issuer} ${jti}`)}`;
}

/** The session ids an index entry lists (not yet expired). */
export async function readLogoutIndex(store: Store, key: string, timeoutMs: number, now = Date.now()): Promise<string[]> {
  const stored = await storeCall<StoredIndex | null>(timeoutMs, 'read the logout index', (cb) => store.get(key, cb as never));
  const sessions = stored?.oauthSessions;
  if (typeof sessions !== 'object' || sessions === null) return [];
  return Object.entries(sessions)
    .filter(([, exp]) => exp === 0 || exp > now)
    .map(([id]) => id);
}

/**
 * Add a session to an index entry (dropping expired ones); the entry lives as long as its
 * longest-lived session. `expiresAt` undefined: a browser-session cookie (the store's default TTL).
 */
export async function addToLogoutIndex(store: Store, key: string, sessionId: string, expiresAt: number | undefined, timeoutMs: number, now = Date.now()): Promise<void> {
  const stored = await storeCall<StoredIndex | null>(timeoutMs, 'read the logout index', (cb) => store.get(key, cb as never));
  const previous = typeof stored?.oauthSessions === 'object' && stored.oauthSessions !== null ? stored.oauthSessions : {};
  const sessions: Record<string, number> = Object.fromEntries(Object.entries(previous).filter(([, exp]) => exp === 0 || exp > now));
  sessions[sessionId] = expiresAt ?? 0;
  const expiries = Object.values(sessions);
  const expires = expiries.includes(0) ? null : new Date(Math.max(...expiries));
  const entry: StoredIndex = { cookie: { expires, originalMaxAge: expires ? expires.getTime() - now : null }, oauthSessions: sessions };
  await storeCall(timeoutMs, 'save the logout index', (cb) => store.set(key, entry as never, cb));
}

/**
 * Remember a logout token's `jti` until it expires. Returns false when it was already seen
 * (a replay). The read and the write are two store calls: two copies of one token racing in
 * two processes may both pass, and both end the same sessions, which is harmless.
 */
export async function rememberLogoutToken(store: Store, key: string, until: number, timeoutMs: number, now = Date.now()): Promise<boolean> {
  const seen = await storeCall<{ oauthLogoutSeen?: unknown } | null>(timeoutMs, 'read the logout token log', (cb) => store.get(key, cb as never));
  if (typeof seen?.oauthLogoutSeen === 'number') return false;
  const ttl = Math.max(until - now, 1000);
  const entry = { cookie: { expires: new Date(now + ttl), originalMaxAge: ttl }, oauthLogoutSeen: now };
  await storeCall(timeoutMs, 'save the logout token log', (cb) => store.set(key, entry as never, cb));
  return true;
}
