/**
 * Cross-process mutual exclusion for refreshes. The in-process single-flight map (refresh.ts)
 * already makes one process refresh a session once; a `RefreshLock` extends that to several
 * processes sharing one session store (see `redisLock`).
 */

/** Per-call options of a `RefreshLock` and its `Lease`. */
export interface LockCallOptions {
  /**
   * The call's time budget in ms: every command it sends to the lock's backend must be answered
   * within this long of the call's start, or the call rejects with `SessionUnavailableError` (503).
   * `waitForRelease` also stops waiting at this budget. Default: the lock's own (`redisLock`'s
   * `timeoutMs` option).
   */
  timeoutMs?: number;
}

/**
 * A held lock: a lease that lapses `ttlMs` after it was taken (or last extended) unless extended.
 * Extending and releasing are compare-and-set on the holder's own token, so a holder whose lease
 * lapsed can neither extend nor release the next holder's lease.
 */
export interface Lease {
  /**
   * Make the lease last `ttlMs` from now, if it is still ours. Resolves `true` when extended,
   * `false` when the lease was lost (it lapsed and may belong to someone else now).
   */
  extend(ttlMs: number, options?: LockCallOptions): Promise<boolean>;
  /** Whether the lease is still ours (not lapsed, not released). */
  isHeld(options?: LockCallOptions): Promise<boolean>;
  /** Give the lease up, if it is still ours (otherwise nothing happens). Idempotent. */
  release(options?: LockCallOptions): Promise<void>;
}

export interface RefreshLock {
  /**
   * Try to take the lock `key` for `ttlMs`. Resolves to the `Lease` when taken, or `undefined`
   * when another holder has it. Must not wait for the holder.
   */
  acquire(key: string, ttlMs: number, options?: LockCallOptions): Promise<Lease | undefined>;
  /**
   * Resolve once `key` is free (released or expired) or after `maxWaitMs` (or the call's
   * `timeoutMs`), whichever is first.
   */
  waitForRelease(key: string, maxWaitMs: number, options?: LockCallOptions): Promise<void>;
}

/**
 * Default: one process, so the single-flight map is the whole story and the lock always succeeds.
 * Its leases are held until released (nothing else can take them, so they never lapse).
 */
export const inProcessLock: RefreshLock = {
  async acquire() {
    let held = true;
    return {
      extend: async () => held,
      isHeld: async () => held,
      release: async () => void (held = false),
    };
  },
  async waitForRelease() {},
};
