import { debugFor, tokenId } from '../debug.js';
import type { LoginSession } from '../session/login-session.js';
import type { TokenRecord } from '../session/token-record.js';
import type { HeldLease } from './held-lease.js';
import type { ProviderLink } from './provider-link.js';

const log = debugFor('refresh');

/** A refreshed record the store did not take yet, with what writing it needs. */
export interface PendingWrite {
  record: TokenRecord;
  /** The login's session, detached from the request (each call gets the whole timeout). */
  session: LoginSession;
  link: ProviderLink;
}

export interface PendingWritesOptions {
  /** How long the first retries go on (holding the lease) before the lease is let go. */
  retryWindowMs: number;
  /** The login ended while its write was pending: revoke what the record holds. */
  onEnded(pending: PendingWrite): Promise<void>;
}

const MAX_PENDING = 10_000;

/**
 * Refresh results whose write failed (a store failing over between the token response and the
 * write). The provider has already rotated the refresh token, so the record must not be lost and
 * the old refresh token must never be spent again: the new record is kept in process memory,
 * retried in the background while the refresh lease is held (no other process refreshes
 * meanwhile), and consulted before the next refresh and before a record is deleted.
 */
export class PendingWrites {
  readonly #byKey = new Map<string, PendingWrite>();
  readonly #retrying = new Set<Promise<void>>();

  constructor(private readonly options: PendingWritesOptions) {}

  get size(): number {
    return this.#byKey.size;
  }

  /** The pending record of `key` when it is newer than `seen` (what the store gave). */
  newerThan(key: string, seen: TokenRecord): TokenRecord | undefined {
    const pending = this.#byKey.get(key);
    return pending && pending.record.v > seen.v ? pending.record : undefined;
  }

  /** Keep `pending` until written, retrying in the background while `lease` is held. */
  hold(key: string, pending: PendingWrite, lease: HeldLease): void {
    if (this.#byKey.size >= MAX_PENDING && !this.#byKey.has(key)) this.#byKey.delete(this.#byKey.keys().next().value!);
    this.#byKey.set(key, pending);
    lease.handOff();
    const retries = this.#retry(key, pending, lease).finally(() => this.#retrying.delete(retries));
    this.#retrying.add(retries);
  }

  /** One more attempt now (a later request found the record still pending). */
  async flush(key: string): Promise<void> {
    const pending = this.#byKey.get(key);
    if (pending) await this.#attempt(key, pending).catch(() => undefined);
  }

  /** Resolves when no background retry is running (tests await it instead of sleeping). */
  async idle(): Promise<void> {
    while (this.#retrying.size > 0) await Promise.allSettled([...this.#retrying]);
  }

  /** True when written (or the login ended and it was dropped); throws the store's error otherwise. */
  async #attempt(key: string, pending: PendingWrite): Promise<true> {
    const result = await pending.session.commitRefresh(pending.link.name, pending.record);
    if (this.#byKey.get(key) === pending) this.#byKey.delete(key);
    if (result.kind === 'ended') await this.options.onEnded(pending);
    else log('pending refresh result of %s written (token %s)', pending.link.name, tokenId(pending.record.tokens.accessToken));
    return true;
  }

  async #retry(key: string, pending: PendingWrite, lease: HeldLease): Promise<void> {
    const until = Date.now() + this.options.retryWindowMs;
    try {
      for (let delay = 50; ; delay = Math.min(delay * 2, 2000)) {
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
        if (this.#byKey.get(key) !== pending) return;
        try {
          await this.#attempt(key, pending);
          return;
        } catch (err) {
          log('writing the refresh result of %s failed again (%s)', pending.link.name, (err as Error).message);
          if (Date.now() >= until) return;
        }
      }
    } finally {
      await lease.release();
    }
  }
}
