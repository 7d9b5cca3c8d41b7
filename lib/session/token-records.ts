import type { Store } from 'express-session';
import type { DpopKey } from '../protocol/dpop.js';
import type { TokenSet } from '../protocol/token-set.js';
import { PerCallDeadline, type Deadline } from './deadline.js';
import { decodeRecord, type StoredRecord } from './record-format.js';
import { storeCall } from './store-call.js';
import { deleteRecord, readRecord, recordKey, writeRecord, type CookieLike, type TokenRecord } from './token-record.js';
import { hasTombstone, recordEndKey, writeTombstone } from './tombstone.js';

/** The tokens of a login that ended, for the caller to revoke (with the login's DPoP key when it had one). */
export interface EndedTokens {
  tokens: TokenSet;
  dpop?: DpopKey;
  /** The login's per-API and exchanged access tokens (revoked with it). */
  apiTokens?: readonly string[];
}

/** What a refresh's write came to: kept, or undone because the login ended while the token call ran. */
export type CommitResult = { kind: 'committed' } | { kind: 'ended' };

/** The tokens (and DPoP key) of a record, as the one shape every revoke site takes. */
export function endedTokens(record: TokenRecord): EndedTokens {
  const ended: EndedTokens = record.dpop ? { tokens: record.tokens, dpop: record.dpop } : { tokens: record.tokens };
  if (record.apis) {
    const apiTokens = Object.values(record.apis).map((t) => t.accessToken);
    if (apiTokens.length > 0) ended.apiTokens = apiTokens;
  }
  return ended;
}

/**
 * The token records of one session store, bound to it and to the deadline of every call. The
 * record operations of login-store.ts and login-session.ts, so that the tombstone rules
 * (tombstone.ts) are written once: an ended record is tombstoned before it is deleted, and a
 * refresh's write is checked against the tombstone after it is written.
 */
export class TokenRecords {
  readonly #deadline: Deadline;

  constructor(
    private readonly store: Store,
    deadline: Deadline | number,
  ) {
    this.#deadline = typeof deadline === 'number' ? new PerCallDeadline(deadline) : deadline;
  }

  #ms(what: string): number {
    return this.#deadline.remainingMs(what);
  }

  async read(sessionId: string, provider: string): Promise<TokenRecord | undefined> {
    return readRecord(this.store, recordKey(sessionId, provider), this.#ms('read tokens'));
  }

  async write(sessionId: string, provider: string, record: TokenRecord, cookie: CookieLike): Promise<void> {
    return writeRecord(this.store, recordKey(sessionId, provider), record, cookie, this.#ms('save tokens'));
  }

  /** Forget a record (the provider rejected its refresh token). */
  async delete(sessionId: string, provider: string): Promise<void> {
    return deleteRecord(this.store, recordKey(sessionId, provider), this.#ms('delete tokens'));
  }

  /**
   * Write a refreshed record, then check its tombstone: a login that ended (logout, re-login)
   * while the token call was in flight gets what was just written deleted again (`ended`).
   */
  async commit(sessionId: string, provider: string, record: TokenRecord, cookie: CookieLike): Promise<CommitResult> {
    const key = recordKey(sessionId, provider);
    await writeRecord(this.store, key, record, cookie, this.#ms('save tokens'));
    if (!(await hasTombstone(this.store, recordEndKey(key), this.#ms('read the tombstone of an ended login')))) return { kind: 'committed' };
    await deleteRecord(this.store, key, this.#ms('delete tokens'));
    return { kind: 'ended' };
  }

  /** End a login's record: tombstone it (no refresh in flight writes it back), read, delete. */
  async end(sessionId: string, provider: string, tombstoneTtlMs: number): Promise<TokenRecord | undefined> {
    const key = recordKey(sessionId, provider);
    await writeTombstone(this.store, recordEndKey(key), tombstoneTtlMs, this.#ms('save the tombstone of an ended login'));
    const record = await readRecord(this.store, key, this.#ms('read tokens'));
    if (record) await deleteRecord(this.store, key, this.#ms('delete tokens'));
    return record;
  }
}

/**
 * The test kit's "expire this login's access token": rewrite the record with `expiresAt` in the
 * past and a new version, keeping the record's own expiry. False when there is no such record.
 */
export async function expireStoredAccessToken(store: Store, sessionId: string, provider: string, timeoutMs: number, now = Date.now()): Promise<boolean> {
  const key = recordKey(sessionId, provider);
  const stored = await storeCall<(StoredRecord & { cookie?: CookieLike }) | null>(timeoutMs, 'read tokens', (cb) => store.get(key, cb as never));
  const record = decodeRecord(stored);
  if (!record) return false;
  const expired: TokenRecord = { ...record, v: record.v + 1, tokens: { ...record.tokens, expiresAt: now - 1000 } };
  await writeRecord(store, key, expired, stored?.cookie ?? { expires: null, originalMaxAge: null }, timeoutMs);
  return true;
}
