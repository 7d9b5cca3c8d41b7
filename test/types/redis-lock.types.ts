// Compile-only (npm test runs tsc over test/): redisLock takes either library's client without a
// cast, and returns a RefreshLock with stats and close().
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { redisLock, type RedisRefreshLock, type RefreshLock } from 'express-oauth2-session';

export async function bothClients(): Promise<void> {
  const fromNodeRedis: RedisRefreshLock = redisLock(createClient({ url: 'redis://127.0.0.1:6379' }));
  const fromIoredis: RefreshLock = redisLock(new Redis('redis://127.0.0.1:6379', { lazyConnect: true }), { pollIntervalMs: 500 });
  const stats: { readonly wokenByMessage: number; readonly timedOut: number } = fromNodeRedis.stats;
  // @ts-expect-error not a Redis client
  redisLock({ get: () => null });
  await fromNodeRedis.close();
  void fromIoredis;
  void stats;
}
