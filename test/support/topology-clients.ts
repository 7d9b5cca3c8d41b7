// The Redis clients an app process uses on a single instance, a Redis Cluster or a Sentinel group,
// for the session store (connect-redis 9) and the refresh lock, with the settings they need to fail
// fast while a master is down and to follow a failover (the table in docs/redis-and-scaling.md):
// - node-redis `createCluster`: `defaults: { disableOfflineQueue: true }`, and a rediscovery of the
//   slots whenever a node reports an error (node-redis re-reads the slot map only on MOVED/ASK, which
//   a dead master never sends: without this it keeps sending a dead master's slots to the dead node).
// - ioredis `Cluster`: `slotsRefreshInterval: 1000` (re-reads the slot map every second; default 5 s;
//   it also re-reads it when a node's connection closes) and `redisOptions: { maxRetriesPerRequest: 1,
//   connectTimeout: 1000 }` (a Cluster takes no per-node `enableOfflineQueue` or `retryStrategy`).
// - node-redis `createSentinel`: `nodeClientOptions: { disableOfflineQueue: true }`: it follows the
//   sentinels' `+switch-master` by itself, and retries a command sent while the master is down until
//   a master answers (whatever disableOfflineQueue says): a write may land after its caller gave up.
// - ioredis `new Redis({ name, sentinels })`: `enableOfflineQueue: false`, `maxRetriesPerRequest: 1`,
//   a short `retryStrategy`: each reconnect asks the sentinels for the current master.
// connect-redis 9 speaks node-redis; for an ioredis app `ioredisSessionClient` adapts the five
// commands connect-redis sends (an app would use a store written for ioredis).
import type { RedisStore } from 'connect-redis';
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster, createSentinel } from 'redis';
import type { redisLock } from 'express-oauth2-session';
import type { RedisClientKind } from './redis-clients';

export type RedisTarget =
  { type: 'single'; url: string } | { type: 'cluster'; rootNodes: Array<{ host: string; port: number }> } | { type: 'sentinel'; name: string; sentinels: Array<{ host: string; port: number }> };

export type StoreClient = ConstructorParameters<typeof RedisStore>[0]['client'];
export type LockClient = Parameters<typeof redisLock>[0];

export interface AppClients {
  /** For `new RedisStore({ client })`. */
  store: StoreClient;
  /** For `redisLock(client)`. */
  lock: LockClient;
  quit(): Promise<void>;
}

/** connect-redis 9's client calls, answered by an ioredis client (single, Sentinel or Cluster). */
export function ioredisSessionClient(redis: Redis | Cluster): StoreClient {
  const client = {
    get: (key: string) => redis.get(key),
    set: (key: string, value: string, options?: { expiration?: { type: 'EX'; value: number } }) =>
      options?.expiration ? redis.set(key, value, 'EX', options.expiration.value) : redis.set(key, value),
    expire: (key: string, seconds: number) => redis.expire(key, seconds),
    del: async (keys: string[]) => {
      let n = 0;
      for (const key of keys) n += await redis.del(key); // one key per command: no CROSSSLOT on a cluster
      return n;
    },
    mGet: (keys: string[]) => Promise.all(keys.map((k) => redis.get(k))),
  };
  return client as unknown as StoreClient;
}

type NodeRedisClusterLike = ReturnType<typeof createCluster> & { _slots: { rediscover(startWith: { options: object }): Promise<void> } };

/**
 * node-redis's cluster client re-reads the slot map only on a MOVED or ASK answer; a master that died
 * answers nothing, so its slots stay mapped to it after its replica took over. Re-discover (at most
 * every `everyMs`) while any node reports errors: once the replica is promoted, the map is right.
 * `_slots.rediscover` is declared on node-redis 5's RedisCluster type (the only way in; no public method).
 */
export function rediscoverOnNodeErrors(cluster: ReturnType<typeof createCluster>, rootNodes: Array<{ host: string; port: number }>, everyMs = 250): void {
  let last = 0;
  let running = false;
  cluster.on('node-error', () => {
    if (running || Date.now() - last < everyMs) return;
    running = true;
    last = Date.now();
    const start = rootNodes[Math.floor(Math.random() * rootNodes.length)]!;
    (cluster as NodeRedisClusterLike)._slots
      .rediscover({ options: { socket: { host: start.host, port: start.port } } })
      .catch(() => {})
      .finally(() => (running = false));
  });
}

export async function connectAppClients(kind: RedisClientKind, target: RedisTarget): Promise<AppClients> {
  const socket = { connectTimeout: 1000, reconnectStrategy: () => 100 };
  if (kind === 'node-redis') {
    if (target.type === 'single') {
      const client = createClient({ url: target.url, disableOfflineQueue: true, socket });
      client.on('error', () => {});
      await client.connect();
      return { store: client, lock: client, quit: async () => void (await client.quit().catch(() => client.destroy())) };
    }
    if (target.type === 'cluster') {
      const cluster = createCluster({
        rootNodes: target.rootNodes.map((n) => ({ url: `redis://${n.host}:${n.port}` })),
        defaults: { disableOfflineQueue: true, socket },
      });
      cluster.on('error', () => {});
      rediscoverOnNodeErrors(cluster, target.rootNodes);
      await cluster.connect();
      return { store: cluster, lock: cluster, quit: async () => void (await cluster.close().catch(() => cluster.destroy())) };
    }
    const sentinel = createSentinel({ name: target.name, sentinelRootNodes: target.sentinels, nodeClientOptions: { disableOfflineQueue: true, socket } });
    sentinel.on('error', () => {});
    await sentinel.connect();
    return { store: sentinel as unknown as StoreClient, lock: sentinel, quit: async () => void (await sentinel.close().catch(() => sentinel.destroy())) };
  }
  const fast = { connectTimeout: 1000, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => 100 };
  let redis: Redis | Cluster;
  if (target.type === 'single') redis = new Redis(target.url, { ...fast, lazyConnect: true });
  else if (target.type === 'sentinel') redis = new Redis({ name: target.name, sentinels: target.sentinels, ...fast, lazyConnect: true });
  else redis = new Cluster(target.rootNodes, { lazyConnect: true, slotsRefreshInterval: 1000, redisOptions: { connectTimeout: 1000, maxRetriesPerRequest: 1 } });
  redis.on('error', () => {});
  await redis.connect();
  return { store: ioredisSessionClient(redis), lock: redis, quit: async () => void (await redis.quit().catch(() => redis.disconnect())) };
}
