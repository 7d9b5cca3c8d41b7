// Compile-only (npm test runs tsc over test/): redisLock takes every client of either library
// (single instance, Cluster, Sentinel) without a cast, and returns a RefreshLock with stats and
// close(); its leases extend, report and release, with an optional per-call deadline.
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster, createSentinel } from 'redis';
import { redisLock, type Lease, type LockCallOptions, type RedisRefreshLock, type RefreshLock } from 'express-oauth2-session';

export async function bothClients(): Promise<void> {
  const fromNodeRedis: RedisRefreshLock = redisLock(createClient({ url: 'redis://127.0.0.1:6379' }));
  const fromIoredis: RefreshLock = redisLock(new Redis('redis://127.0.0.1:6379', { lazyConnect: true }), { pollIntervalMs: 500, timeoutMs: 2000 });
  const stats: RedisRefreshLock['stats'] = fromNodeRedis.stats;
  // @ts-expect-error not a Redis client
  redisLock({ get: () => null });
  await fromNodeRedis.close();
  void fromIoredis;
  void stats;
}

export function clusterAndSentinelClients(): RedisRefreshLock[] {
  return [
    redisLock(createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:7000' }] })),
    redisLock(createSentinel({ name: 'mymaster', sentinelRootNodes: [{ host: '127.0.0.1', port: 26379 }] })),
    redisLock(new Cluster([{ host: '127.0.0.1', port: 7000 }])),
    redisLock(new Redis({ name: 'mymaster', sentinels: [{ host: '127.0.0.1', port: 26379 }] })),
  ];
}

export async function leases(lock: RefreshLock): Promise<void> {
  const within: LockCallOptions = { timeoutMs: 500 };
  const lease: Lease | undefined = await lock.acquire('k', 15_000, within);
  if (!lease) return lock.waitForRelease('k', 15_000, within);
  const extended: boolean = await lease.extend(15_000, within);
  const held: boolean = await lease.isHeld();
  await lease.release(within);
  void extended;
  void held;
}
