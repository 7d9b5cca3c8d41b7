import { createHash } from 'node:crypto';
import type { Store } from 'express-session';
import { debugFor } from '../debug.js';
import { storeCall } from './store-call.js';

const log = debugFor('logout');

/**
 * OIDC Back-Channel Logout names a provider's session (`sid`) or user (`sub`), not our session
 * ids; and the logout token reaches one process of many. So each login adds its session id to an
 * index kept in the session store itself, under derived ids (`oauth-bcl:<provider>:sid:<sid>` and
 * `…:sub:<sub>`), each entry living as long as its longest-lived session (a session whose cookie has
 * no expiry counts {@link INDEX_LIFETIME_WITHOUT_EXPIRY_MS}); every process can then find and end
 * the sessions. A session leaves the entries when its login ends (logout, re-login, back-channel
 * logout). Logout tokens' `jti`s are remembered there too (replay), for the token's lifetime, once
 * the sessions they named have ended.
 *
 * Each change is a read and a write of one entry (an express-session store has no atomic update):
 * two logins or logouts of the same `sub` at the same instant may lose one change. A lost addition
 * leaves that session out of a later back-channel logout; a lost removal leaves an entry that
 * expires.
 */

/**
 * How long a session whose cookie has no expiry (express-session's default browser-session cookie)
 * stays in the index: the store may keep such a session indefinitely, but an index entry must not.
 * Set `cookie.maxAge` when sessions live longer than this.
 */
export const INDEX_LIFETIME_WITHOUT_EXPIRY_MS = 14 * 86_400_000;

export type LogoutSubject = { kind: 'sid' | 'sub'; value: string };

interface StoredIndex {
  cookie: { expires: Date | string | null; originalMaxAge: number | null };
  /** session id → expiry (epoch ms; 0, written by earlier versions for a cookie without expiry, reads as {@link INDEX_LIFETIME_WITHOUT_EXPIRY_MS} from now). */
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

/** The live (not expired) sessions of a stored entry, each with a finite expiry. */
function liveSessions(stored: StoredIndex | null, now: number): Record<string, number> {
  const sessions = stored?.oauthSessions;
  if (typeof sessions !== 'object' || sessions === null) return {};
  return Object.fromEntries(
    Object.entries(sessions)
      .map(([id, exp]) => [id, exp === 0 ? now + INDEX_LIFETIME_WITHOUT_EXPIRY_MS : exp] as const)
      .filter(([, exp]) => typeof exp === 'number' && exp > now),
  );
}

async function readEntry(store: Store, key: string, timeoutMs: number): Promise<StoredIndex | null> {
  return (await storeCall<StoredIndex | null>(timeoutMs, 'read the logout index', (cb) => store.get(key, cb as never))) ?? null;
}

/** Write an entry that lives as long as its longest-lived session; an entry with no session left is deleted. */
async function writeEntry(store: Store, key: string, sessions: Record<string, number>, timeoutMs: number, now: number): Promise<void> {
  const expiries = Object.values(sessions);
  if (expiries.length === 0) {
    await storeCall(timeoutMs, 'delete the logout index', (cb) => store.destroy(key, cb));
    return;
  }
  const expires = new Date(Math.max(...expiries));
  const entry: StoredIndex = { cookie: { expires, originalMaxAge: expires.getTime() - now }, oauthSessions: sessions };
  await storeCall(timeoutMs, 'save the logout index', (cb) => store.set(key, entry as never, cb));
}

/** The session ids an index entry lists (not yet expired). */
export async function readLogoutIndex(store: Store, key: string, timeoutMs: number, now = Date.now()): Promise<string[]> {
  return Object.keys(liveSessions(await readEntry(store, key, timeoutMs), now));
}

/**
 * Add a session to an index entry (dropping expired ones). `expiresAt` undefined: a cookie with no
 * expiry, listed for {@link INDEX_LIFETIME_WITHOUT_EXPIRY_MS}.
 */
export async function addToLogoutIndex(store: Store, key: string, sessionId: string, expiresAt: number | undefined, timeoutMs: number, now = Date.now()): Promise<void> {
  const sessions = liveSessions(await readEntry(store, key, timeoutMs), now);
  sessions[sessionId] = expiresAt ?? now + INDEX_LIFETIME_WITHOUT_EXPIRY_MS;
  await writeEntry(store, key, sessions, timeoutMs, now);
}

/** Take a session out of an index entry (its login ended); the entry is deleted when no session is left. */
export async function removeFromLogoutIndex(store: Store, key: string, sessionId: string, timeoutMs: number, now = Date.now()): Promise<void> {
  const stored = await readEntry(store, key, timeoutMs);
  if (stored === null) return;
  const sessions = liveSessions(stored, now);
  const listed = Object.prototype.hasOwnProperty.call(sessions, sessionId);
  delete sessions[sessionId];
  // Unchanged (and not merely holding expired sessions to drop): nothing to write.
  if (!listed && Object.keys(sessions).length === Object.keys(stored.oauthSessions ?? {}).length) return;
  await writeEntry(store, key, sessions, timeoutMs, now);
}

/**
 * Take a session out of the index entries of these logins (they ended, or the session id did).
 * `bestEffort`: a store error is logged, not thrown (logout and login must not fail for an entry
 * that only costs space and expires).
 */
export async function unindexSession(
  store: Store,
  sessionId: string,
  logins: Record<string, { sid?: string | undefined; sub?: string | undefined }>,
  timeoutMs: number,
  bestEffort = false,
): Promise<void> {
  for (const [provider, login] of Object.entries(logins)) {
    for (const key of logoutIndexKeysOf(provider, login)) {
      try {
        await removeFromLogoutIndex(store, key, sessionId, timeoutMs);
      } catch (err) {
        if (!bestEffort) throw err;
        log('could not take a session out of the logout index: %s', (err as Error).message);
      }
    }
  }
}

/** The index entries of one provider's login (its marker's `sid` and `sub`). */
export function logoutIndexKeysOf(provider: string, login: { sid?: string | undefined; sub?: string | undefined }): string[] {
  const keys: string[] = [];
  if (login.sid !== undefined) keys.push(logoutIndexKey(provider, { kind: 'sid', value: login.sid }));
  if (login.sub !== undefined) keys.push(logoutIndexKey(provider, { kind: 'sub', value: login.sub }));
  return keys;
}

/** True when a logout token's `jti` was recorded (its sessions already ended): a replay. */
export async function logoutTokenSeen(store: Store, key: string, timeoutMs: number): Promise<boolean> {
  const seen = await storeCall<{ oauthLogoutSeen?: unknown } | null>(timeoutMs, 'read the logout token log', (cb) => store.get(key, cb as never));
  return typeof seen?.oauthLogoutSeen === 'number';
}

/**
 * Record a logout token's `jti` until it expires, once the sessions it named have ended: a recorded
 * `jti` means "done", so a delivery that failed before this point (a store error) can be retried.
 * Two copies of one token racing in two processes may both end the same sessions: harmless.
 */
export async function recordLogoutToken(store: Store, key: string, until: number, timeoutMs: number, now = Date.now()): Promise<void> {
  const ttl = Math.max(until - now, 1000);
  const entry = { cookie: { expires: new Date(now + ttl), originalMaxAge: ttl }, oauthLogoutSeen: now };
  await storeCall(timeoutMs, 'save the logout token log', (cb) => store.set(key, entry as never, cb));
}
