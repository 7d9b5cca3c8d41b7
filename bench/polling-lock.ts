// For comparison in the storm bench only: the refresh lock as it was before the pub/sub wakeups
// (waiters poll the key with EXISTS every 25 ms), driven through the same client adapter.
import { randomBytes } from 'node:crypto';
import type { RefreshLock } from 'express-oauth2-session';
import { lockCommands } from '../lib/session/redis-commands';

const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const EXTEND = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
const POLL_MS = 25;

/** `redisLock` before pub/sub: `SET NX PX`, compare-and-delete, waiters poll every 25 ms. */
export function pollingLock(client: unknown): RefreshLock {
  const redis = lockCommands(client);
  return {
    async acquire(key, ttlMs) {
      const name = `oauth-lock:${key}`;
      const token = randomBytes(16).toString('hex');
      if (!(await redis.setIfAbsent(name, token, Math.ceil(ttlMs)))) return undefined;
      return {
        extend: async (ms) => Number(await redis.evaluate(EXTEND, [name], [token, String(Math.ceil(ms))])) === 1,
        isHeld: async () => (await redis.get(name)) === token,
        release: async () => void (await redis.evaluate(RELEASE, [name], [token])),
      };
    },
    async waitForRelease(key, maxWaitMs) {
      const deadline = Date.now() + maxWaitMs;
      while (Date.now() < deadline && (await redis.pttl(`oauth-lock:${key}`)) !== -2) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(1, deadline - Date.now()))));
      }
    },
  };
}
