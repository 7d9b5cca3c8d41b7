import { debugFor } from '../debug.js';
import type { Lease } from '../session/lock.js';

const log = debugFor('refresh');

/**
 * A lock lease kept alive while its holder works (issue: a provider slower than the lease must
 * not let a second process spend the same refresh token). It is extended every third of its TTL;
 * a failed or refused extension marks it lost, and `stillHeld()` asks the lock before a result
 * obtained under it is used. Whoever takes over the work (a write retried after the request
 * answered) takes the lease with it (`handOff`), and releases it when done.
 */
export class HeldLease {
  #lost = false;
  #handedOff = false;
  #released = false;
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly lease: Lease,
    private readonly ttlMs: number,
    private readonly callTimeoutMs: number,
  ) {
    this.#timer = setInterval(() => void this.#extend(), Math.max(Math.floor(ttlMs / 3), 10));
    this.#timer.unref();
  }

  async #extend(): Promise<void> {
    try {
      if (!(await this.lease.extend(this.ttlMs, { timeoutMs: this.callTimeoutMs }))) this.#lost = true;
    } catch (err) {
      log('extending the refresh lease failed: %s', (err as Error).message);
    }
  }

  /**
   * Whether the lease is still ours: never refused an extension, and the lock says so within
   * `timeoutMs` (what is left of the request's budget; none left or no answer reads as "not sure":
   * false).
   */
  async stillHeld(timeoutMs: number): Promise<boolean> {
    if (this.#lost || timeoutMs <= 0) return false;
    try {
      return await this.lease.isHeld({ timeoutMs: Math.min(timeoutMs, this.callTimeoutMs) });
    } catch {
      return false;
    }
  }

  get handedOff(): boolean {
    return this.#handedOff;
  }

  /** The caller's `finally` will not release it: the new owner does. */
  handOff(): void {
    this.#handedOff = true;
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearInterval(this.#timer);
    await this.lease.release({ timeoutMs: this.callTimeoutMs }).catch((err: unknown) => log('lock release failed: %s', (err as Error).message));
  }
}
