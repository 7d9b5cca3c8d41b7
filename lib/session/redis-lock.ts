import { randomBytes } from 'node:crypto';
import { configError, SessionUnavailableError } from '../errors.js';
import type { RefreshLock } from './lock.js';

/** node-redis 4/5 (`sendCommand(args[])`) or ioredis (`call(cmd, ...args)`), structurally. */
export interface RedisClientLike {
  sendCommand?: (args: string[]) => Promise<unknown>;
  call?: (command: string, ...args: string[]) => Promise<unknown>;
}

export interface RedisLockOptions {
  /** Key prefix. Default `'oauth-lock:'`. */
  prefix?: string;
  /** How often waiters check whether the lock is free. Default 25 ms. */
  pollIntervalMs?: number;
}

// Delete the key only if it still holds our token: a holder whose lock expired must not release
// the next holder's lock.
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A refresh lock shared by every process that uses the same Redis: `SET key token NX PX ttl`,
 * released by compare-and-delete. If the holder dies, the lock expires after its TTL (the
 * middleware uses httpTimeoutMs + 5 s), so nobody waits longer than that.
 *
 * ```ts
 * const client = createClient({ url: process.env.REDIS_URL }); await client.connect();
 * app.use(oauthMiddleware({ ...options, lock: redisLock(client) }));
 * ```
 */
export function redisLock(client: RedisClientLike, options: RedisLockOptions = {}): RefreshLock {
  let command: (args: string[]) => Promise<unknown>;
  if (client && typeof client.sendCommand === 'function') command = (args) => client.sendCommand!(args);
  else if (client && typeof client.call === 'function') command = ([cmd, ...args]) => client.call!(cmd as string, ...args);
  else throw configError('lock', 'must be given a connected node-redis (v4+) or ioredis client: redisLock(client)');
  const prefix = options.prefix ?? 'oauth-lock:';
  const pollIntervalMs = options.pollIntervalMs ?? 25;

  const run = async (args: string[]): Promise<unknown> => {
    try {
      return await command(args);
    } catch (err) {
      throw new SessionUnavailableError('The Redis refresh lock is unavailable; try again shortly.', err);
    }
  };

  return {
    async acquire(key, ttlMs) {
      const name = prefix + key;
      const token = randomBytes(16).toString('hex');
      const ok = await run(['SET', name, token, 'NX', 'PX', String(Math.ceil(ttlMs))]);
      if (ok !== 'OK') return undefined;
      return async () => {
        await run(['EVAL', RELEASE, '1', name, token]);
      };
    },
    async waitForRelease(key, maxWaitMs) {
      const name = prefix + key;
      const deadline = Date.now() + maxWaitMs;
      while (Date.now() < deadline) {
        if (Number(await run(['EXISTS', name])) === 0) return;
        await sleep(Math.min(pollIntervalMs, Math.max(1, deadline - Date.now())));
      }
    },
  };
}
