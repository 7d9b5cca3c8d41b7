// The two Redis client libraries the lock supports, connected the way the tests and benches use
// them: failing fast while Redis is down instead of queueing commands forever.
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster, createSentinel } from 'redis';

export type RedisClientKind = 'node-redis' | 'ioredis';
export const REDIS_CLIENT_KINDS: RedisClientKind[] = ['node-redis', 'ioredis'];

export type NodeRedisClient = ReturnType<typeof createClient>;

export interface ConnectedClient {
  kind: RedisClientKind;
  client: NodeRedisClient | Redis;
  quit(): Promise<void>;
}

/** A node-redis client that fails fast while Redis is down instead of queueing forever. */
export async function connectNodeRedis(url: string): Promise<NodeRedisClient> {
  const client = createClient({ url, disableOfflineQueue: true, socket: { reconnectStrategy: () => 50, connectTimeout: 1000 } });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** An ioredis client with the same fail-fast settings, resolved once ready. */
export async function connectIoredis(url: string): Promise<Redis> {
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 1000, retryStrategy: () => 50, lazyConnect: true });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** A connected client of either library, for the refresh lock. */
export async function connectClient(kind: RedisClientKind, url: string): Promise<ConnectedClient> {
  if (kind === 'ioredis') {
    const client = await connectIoredis(url);
    return { kind, client, quit: async () => void (await client.quit().catch(() => client.disconnect())) };
  }
  const client = await connectNodeRedis(url);
  return { kind, client, quit: async () => void (await client.quit().catch(() => client.destroy())) };
}

export type NodeRedisCluster = ReturnType<typeof createCluster>;
export type NodeRedisSentinel = ReturnType<typeof createSentinel>;

/** A connected client of either library for a Redis Cluster (its nodes as `{ host, port }`). */
export async function connectClusterClient(kind: RedisClientKind, rootNodes: Array<{ host: string; port: number }>): Promise<{ client: NodeRedisCluster | Cluster; quit(): Promise<void> }> {
  if (kind === 'ioredis') {
    const client = new Cluster(rootNodes, { lazyConnect: true, redisOptions: { connectTimeout: 1000, maxRetriesPerRequest: 1 } });
    client.on('error', () => {});
    await client.connect();
    return { client, quit: async () => void (await client.quit().catch(() => client.disconnect())) };
  }
  const client = createCluster({ rootNodes: rootNodes.map((n) => ({ url: `redis://${n.host}:${n.port}` })), defaults: { socket: { connectTimeout: 1000, reconnectStrategy: () => 50 } } });
  client.on('error', () => {});
  await client.connect();
  return { client, quit: async () => void (await client.close().catch(() => client.destroy())) };
}

/** A connected client of either library for the master a Sentinel group names `name`. */
export async function connectSentinelClient(
  kind: RedisClientKind,
  name: string,
  sentinels: Array<{ host: string; port: number }>,
): Promise<{ client: NodeRedisSentinel | Redis; quit(): Promise<void> }> {
  if (kind === 'ioredis') {
    const client = new Redis({ name, sentinels, lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    await client.connect();
    return { client, quit: async () => void (await client.quit().catch(() => client.disconnect())) };
  }
  const client = createSentinel({ name, sentinelRootNodes: sentinels, nodeClientOptions: { socket: { connectTimeout: 1000, reconnectStrategy: () => 50 } } });
  client.on('error', () => {});
  await client.connect();
  return { client, quit: async () => void (await client.close().catch(() => client.destroy())) };
}
