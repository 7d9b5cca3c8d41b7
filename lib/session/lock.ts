/**
 * Cross-process mutual exclusion for refreshes. The in-process single-flight map (refresh.ts)
 * already makes one process refresh a session once; a `RefreshLock` extends that to several
 * processes sharing one session store (see `redisLock`).
 */
export interface RefreshLock {
  /**
   * Try to take the lock `key` for at most `ttlMs`. Resolves to a release function when taken,
   * or `undefined` when another holder has it. Must not wait for the holder.
   */
  acquire(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined>;
  /** Resolve once `key` is free (released or expired) or after `maxWaitMs`, whichever is first. */
  waitForRelease(key: string, maxWaitMs: number): Promise<void>;
}

/** Default: one process, so the single-flight map is the whole story and the lock always succeeds. */
export const inProcessLock: RefreshLock = {
  async acquire() {
    return async () => {};
  },
  async waitForRelease() {},
};
