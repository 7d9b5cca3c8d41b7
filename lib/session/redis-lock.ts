import { randomBytes } from 'node:crypto';
import { configError, SessionUnavailableError } from '../errors.js';
import type { Lease, LockCallOptions, RefreshLock } from './lock.js';
import { lockCommands } from './redis-commands.js';
import { ReleaseSignals } from './release-signals.js';

/**
 * A connected Redis client: node-redis 4+ `createClient()`, `createCluster()` or `createSentinel()`,
 * or ioredis `new Redis()` (also with `sentinels`) or `new Cluster()`. The library and topology are
 * recognised at run time (`redisLock` throws a `TypeError` for anything else).
 */
export interface RedisClientLike {
  eval: (...args: never[]) => unknown;
  subscribe: (...args: never[]) => unknown;
}

export interface RedisLockOptions {
  /** Prefix of the lock keys and of their release channels. Default `'oauth-lock:'`. */
  prefix?: string;
  /**
   * Fallback check while waiting, for when a release message cannot arrive (the holder crashed and
   * its lock expired, or the subscriber connection is down). Default 250 ms.
   */
  pollIntervalMs?: number;
  /**
   * Time budget of a lock call when its caller passes none (`LockCallOptions.timeoutMs`): every
   * Redis command of the call must answer within it, or the call rejects with a 503
   * `SessionUnavailableError`. Default 10,000 ms (the default `httpTimeoutMs`).
   */
  timeoutMs?: number;
}

/** How waits for a release ended, since the lock was created (for metrics and tests). */
export interface RedisLockStats {
  /** Woken by the holder's release message. */
  wokenByMessage: number;
  /** A fallback check found the lock free and no release message came: it expired (holder died), or the message was lost. */
  wokenByFallback: number;
  /** The lock was already free when first checked (no sleeping). */
  foundFree: number;
  /** Fallback checks made after sleeping (poll interval, or until the lock's expiry), whatever they found. */
  fallbackChecks: number;
  /** Gave up at `maxWaitMs`. */
  timedOut: number;
}

/** The Redis `RefreshLock`, plus its counters and `close()` for its subscriber connection. */
export interface RedisRefreshLock extends RefreshLock {
  readonly stats: Readonly<RedisLockStats>;
  /**
   * Close the lock's own subscriber connection (your client is left alone). Call it when shutting
   * down, before `client.quit()`; waits after `close()` still work, by polling.
   */
  close(): Promise<void>;
}

// Delete the key only if it still holds our token (a holder whose lock expired must not release the
// next holder's lock), and tell the waiters in the same step. The channel is an argument, not
// KEYS[1]: ioredis's `keyPrefix` rewrites keys but not the channels the waiters subscribe to.
// PUBLISH (not SPUBLISH) names no key, so on a Redis Cluster the script stays single-slot, and the
// message reaches every node, whichever node a waiter's subscriber connection is on.
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]); redis.call('publish', ARGV[2], 'released'); return 1 else return 0 end";
// Extend the lease only if it is still ours (compare-and-set on the token, one key).
const EXTEND = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi;

/** The Redis error's own words, without credentials in URLs and bounded in length. */
export function describeRedisError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const clean = message.replace(URL_CREDENTIALS, '$1***@').replace(/\s+/g, ' ').trim();
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean || 'unknown error';
}

interface Budget {
  ms: number;
  at: number;
}

function timer(ms: number): { done: Promise<'timer'>; cancel: () => void } {
  let handle: NodeJS.Timeout | undefined;
  const done = new Promise<'timer'>((resolve) => (handle = setTimeout(() => resolve('timer'), ms)));
  return { done, cancel: () => clearTimeout(handle) };
}

/**
 * A refresh lock shared by every process that uses the same Redis (a single instance, a Redis
 * Cluster or a Sentinel-managed master): `SET key token PX ttl NX`, extended and released by
 * compare-and-set scripts on the holder's token (the release also publishes on the key's channel).
 * Waiters subscribe to that channel and are woken by the release; a slow fallback check
 * (`pollIntervalMs`, or the lock's own expiry when that is sooner) covers a holder that died: its
 * lease lapses after its TTL and one waiter takes over. Every command names one key.
 *
 * Works with node-redis 4+ (`createClient`, `createCluster`, `createSentinel`) and ioredis (`Redis`,
 * `Cluster`, `Redis` with `sentinels`). Redis failures, and commands that do not answer within the
 * call's `timeoutMs`, reject with `SessionUnavailableError` (503) naming the cause.
 *
 * ```ts
 * const client = createClient({ url: process.env.REDIS_URL }); await client.connect();
 * const lock = redisLock(client);
 * app.use(oauthMiddleware({ ...options, lock }));
 * // on shutdown: await lock.close(); await client.quit();
 * ```
 */
export function redisLock(client: RedisClientLike, options: RedisLockOptions = {}): RedisRefreshLock {
  const redis = lockCommands(client);
  const prefix = options.prefix ?? 'oauth-lock:';
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const defaultTimeoutMs = options.timeoutMs ?? 10_000;
  if (typeof prefix !== 'string') throw configError('lock', 'redisLock option `prefix` must be a string');
  if (!(Number.isFinite(pollIntervalMs) && pollIntervalMs >= 1)) throw configError('lock', 'redisLock option `pollIntervalMs` must be a number of milliseconds ≥ 1');
  if (!(Number.isFinite(defaultTimeoutMs) && defaultTimeoutMs >= 1)) throw configError('lock', 'redisLock option `timeoutMs` must be a number of milliseconds ≥ 1');
  const signals = new ReleaseSignals((onError) => redis.openSubscriber(onError));
  const stats: RedisLockStats = { wokenByMessage: 0, wokenByFallback: 0, foundFree: 0, fallbackChecks: 0, timedOut: 0 };

  /** One call's time budget (its own `timeoutMs`, else the lock's default) and when it runs out. */
  const budgetOf = (callOptions: LockCallOptions | undefined): Budget => {
    const given = callOptions?.timeoutMs;
    const ms = typeof given === 'number' && !Number.isNaN(given) ? given : defaultTimeoutMs;
    return { ms, at: Date.now() + ms };
  };

  /**
   * One Redis command, answered within the call's budget or failed as a 503. A late answer is
   * ignored (given to `late`, which may undo what it did); the command cannot be recalled.
   */
  const run = <T>(budget: Budget, command: () => Promise<T>, late?: (value: T) => void): Promise<T> => {
    const left = Math.floor(budget.at - Date.now());
    if (left <= 0) return Promise.reject(new SessionUnavailableError('The Redis refresh lock was called with no time left; try again shortly.'));
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(new SessionUnavailableError(`The Redis refresh lock did not answer within ${budget.ms} ms; try again shortly.`));
      }, left);
      let pending: Promise<T>;
      try {
        pending = command();
      } catch (err) {
        pending = Promise.reject(err);
      }
      pending.then(
        (value) => {
          if (settled) return late?.(value);
          settled = true;
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          reject(new SessionUnavailableError(`The Redis refresh lock failed: ${describeRedisError(err)}; try again shortly.`, err));
        },
      );
    });
  };

  const lease = (name: string, token: string, ttlMs: number, takenAt: number): Lease => {
    let expiresAt = takenAt + ttlMs; // by this process's clock, measured from before the SET was sent
    let releasing: Promise<void> | undefined;
    return {
      async extend(ms, callOptions) {
        if (releasing) return false;
        const ttl = Math.ceil(ms);
        const sentAt = Date.now();
        const extended = Number(await run(budgetOf(callOptions), () => redis.evaluate(EXTEND, [name], [token, String(ttl)]))) === 1;
        if (extended) expiresAt = sentAt + ttl;
        return extended;
      },
      async isHeld(callOptions) {
        if (releasing || Date.now() >= expiresAt) return false;
        return (await run(budgetOf(callOptions), () => redis.get(name))) === token;
      },
      release(callOptions) {
        releasing ??= run(budgetOf(callOptions), () => redis.evaluate(RELEASE, [name], [token, name])).then(
          () => {},
          (err: unknown) => {
            releasing = undefined; // still ours in Redis, maybe: a later release() tries again
            throw err;
          },
        );
        return releasing;
      },
    };
  };

  return {
    stats,
    async acquire(key, ttlMs, callOptions) {
      const name = prefix + key;
      const token = randomBytes(16).toString('hex');
      const ttl = Math.ceil(ttlMs);
      const takenAt = Date.now();
      // A SET that answers after the deadline may still have taken the lock: give it back at once.
      const giveBack = (taken: boolean) => void (taken && redis.evaluate(RELEASE, [name], [token, name]).catch(() => {}));
      if (!(await run(budgetOf(callOptions), () => redis.setIfAbsent(name, token, ttl), giveBack))) return undefined;
      return lease(name, token, ttl, takenAt);
    },
    async waitForRelease(key, maxWaitMs, callOptions) {
      const name = prefix + key;
      const budget = budgetOf(callOptions); // no Redis command may answer later than budget.at
      const deadline = Math.min(Date.now() + maxWaitMs, budget.at); // nor may the wait last longer
      let messaged = false; // a release message came (maybe while a fallback check was on its way)
      let wake: () => void = () => {};
      const released = new Promise<'message'>((resolve) => (wake = () => resolve('message'))).then((m) => ((messaged = true), m));
      const listening = signals.listen(name, wake).catch(() => undefined); // undefined: no messages, poll
      // Check the lock only once subscribed (a release before that told nobody), but wait at most one
      // poll interval for it; a subscription confirmed later triggers one more check.
      let subscribing: Promise<'subscribed'> | undefined = listening.then((stop) => (stop ? 'subscribed' : new Promise<never>(() => {})));
      const first = timer(Math.max(0, Math.min(pollIntervalMs, deadline - Date.now())));
      if ((await Promise.race([subscribing, first.done])) === 'subscribed') subscribing = undefined;
      first.cancel();
      try {
        for (let fallback = false; ;) {
          if (Date.now() >= budget.at) return void (stats.timedOut += 1); // no time left for a check
          const ttl = await run(budget, () => redis.pttl(name));
          if (ttl === -2) return void (stats[messaged ? 'wokenByMessage' : fallback ? 'wokenByFallback' : 'foundFree'] += 1);
          const left = deadline - Date.now();
          if (left <= 0) return void (stats.timedOut += 1);
          const nap = timer(Math.min(pollIntervalMs, left, ttl >= 0 ? ttl + 1 : Infinity));
          const how = await Promise.race(subscribing ? [released, nap.done, subscribing] : [released, nap.done]);
          nap.cancel();
          if (how === 'message') return void (stats.wokenByMessage += 1);
          fallback = how === 'timer';
          if (fallback) stats.fallbackChecks += 1;
          else subscribing = undefined;
        }
      } finally {
        void listening.then((stop) => stop?.()); // also undoes a subscription confirmed after we left
      }
    },
    close: () => signals.close(),
  };
}
