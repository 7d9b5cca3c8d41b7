import { randomBytes } from 'node:crypto';
import { configError, SessionUnavailableError } from '../errors.js';
import type { RefreshLock } from './lock.js';
import { lockCommands } from './redis-commands.js';
import { ReleaseSignals } from './release-signals.js';

/**
 * A connected node-redis 4/5 client (`createClient()`) or an ioredis client (`new Redis()`). Both
 * have `duplicate()`, which the lock uses for its subscriber connection; the library is recognised
 * at run time (`redisLock` throws a `TypeError` for anything else).
 */
export interface RedisClientLike {
  duplicate: (...args: never[]) => unknown;
}

export interface RedisLockOptions {
  /** Prefix of the lock keys and of their release channels. Default `'oauth-lock:'`. */
  prefix?: string;
  /**
   * Fallback check while waiting, for when a release message cannot arrive (the holder crashed and
   * its lock expired, or the subscriber connection is down). Default 250 ms.
   */
  pollIntervalMs?: number;
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
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]); redis.call('publish', ARGV[2], 'released'); return 1 else return 0 end";

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi;

/** The Redis error's own words, without credentials in URLs and bounded in length. */
export function describeRedisError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const clean = message.replace(URL_CREDENTIALS, '$1***@').replace(/\s+/g, ' ').trim();
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean || 'unknown error';
}

function timer(ms: number): { done: Promise<'timer'>; cancel: () => void } {
  let handle: NodeJS.Timeout | undefined;
  const done = new Promise<'timer'>((resolve) => (handle = setTimeout(() => resolve('timer'), ms)));
  return { done, cancel: () => clearTimeout(handle) };
}

/**
 * A refresh lock shared by every process that uses the same Redis: `SET key token PX ttl NX`,
 * released by a compare-and-delete script that also publishes on the key's channel. Waiters
 * subscribe to that channel (one lazily opened `client.duplicate()` connection per lock) and are
 * woken by the release; a slow fallback check (`pollIntervalMs`, or the lock's own expiry when that
 * is sooner) covers a holder that died: its lock expires after its TTL and one waiter takes over.
 *
 * Works with node-redis 4/5 and ioredis. Redis failures reject with `SessionUnavailableError`
 * (503) naming the Redis error.
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
  if (typeof prefix !== 'string') throw configError('lock', 'redisLock option `prefix` must be a string');
  if (!(Number.isFinite(pollIntervalMs) && pollIntervalMs >= 1)) throw configError('lock', 'redisLock option `pollIntervalMs` must be a number of milliseconds ≥ 1');
  const signals = new ReleaseSignals((onError) => redis.openSubscriber(onError));
  const stats: RedisLockStats = { wokenByMessage: 0, wokenByFallback: 0, foundFree: 0, fallbackChecks: 0, timedOut: 0 };

  const run = async <T>(command: () => Promise<T>): Promise<T> => {
    try {
      return await command();
    } catch (err) {
      throw new SessionUnavailableError(`The Redis refresh lock failed: ${describeRedisError(err)}; try again shortly.`, err);
    }
  };

  return {
    stats,
    async acquire(key, ttlMs) {
      const name = prefix + key;
      const token = randomBytes(16).toString('hex');
      if (!(await run(() => redis.setIfAbsent(name, token, Math.ceil(ttlMs))))) return undefined;
      return async () => {
        await run(() => redis.evaluate(RELEASE, [name], [token, name]));
      };
    },
    async waitForRelease(key, maxWaitMs) {
      const name = prefix + key;
      const deadline = Date.now() + maxWaitMs;
      let messaged = false; // a release message came (maybe while a fallback check was on its way)
      let wake: () => void = () => {};
      const released = new Promise<'message'>((resolve) => (wake = () => resolve('message'))).then((m) => ((messaged = true), m));
      const listening = signals.listen(name, wake).catch(() => undefined); // undefined: no messages, poll
      // Check the lock only once subscribed (a release before that told nobody), but wait at most one
      // poll interval for it; a subscription confirmed later triggers one more check.
      let subscribing: Promise<'subscribed'> | undefined = listening.then((stop) => (stop ? 'subscribed' : new Promise<never>(() => {})));
      const first = timer(Math.min(pollIntervalMs, maxWaitMs));
      if ((await Promise.race([subscribing, first.done])) === 'subscribed') subscribing = undefined;
      first.cancel();
      try {
        for (let fallback = false; ;) {
          const ttl = await run(() => redis.pttl(name));
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
