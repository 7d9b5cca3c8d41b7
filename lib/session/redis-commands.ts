import { configError } from '../errors.js';

/** Release messages for the lock's waiters, over a connection the lock may own (see `RedisRefreshLock.close`). */
export interface LockSubscriber {
  /** Resolves once Redis confirmed the subscription; `onMessage` runs on every message after that. */
  subscribe(channel: string, onMessage: () => void): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Which client the lock was given. Cluster and Sentinel clients route each single-key command
 * themselves; every lock command names exactly one key, so none can fail with CROSSSLOT.
 */
export type RedisClientKind = 'node-redis' | 'node-redis-cluster' | 'node-redis-sentinel' | 'ioredis' | 'ioredis-cluster';

/** The few Redis operations the refresh lock needs, over either client library's documented API. */
export interface LockCommands {
  readonly kind: RedisClientKind;
  /** `SET key value PX ttlMs NX`: true when set. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  evaluate(script: string, keys: string[], args: string[]): Promise<unknown>;
  /** Remaining time to live in ms; -2 when the key does not exist, -1 when it has no expiry. */
  pttl(key: string): Promise<number>;
  get(key: string): Promise<string | null>;
  /** Start receiving release messages (see `LockSubscriber`). */
  openSubscriber(onError: (err: Error) => void): Promise<LockSubscriber>;
}

type Loose = Record<string, unknown>;
const call = (target: unknown, method: string, ...args: unknown[]): unknown => ((target as Loose)[method] as (...a: unknown[]) => unknown).apply(target, args);
const isObject = (value: unknown): value is Loose => typeof value === 'object' && value !== null;
const hasMethods = (value: Loose, ...names: string[]) => names.every((name) => typeof value[name] === 'function');

/**
 * ioredis `Redis` (a single instance, or a master found through `sentinels`) or `Cluster`: a
 * string `status` and an `options` object.
 */
export function isIoredis(client: unknown): boolean {
  return isObject(client) && typeof client.status === 'string' && isObject(client.options) && hasMethods(client, 'duplicate', 'pttl', 'eval');
}

/**
 * node-redis 4+ (`createClient`, `createCluster`, `createSentinel`): a boolean `isOpen`, camel-cased
 * commands (`pTTL`), no `status`. Not `isReady` (node-redis 5's cluster client has none).
 */
export function isNodeRedis(client: unknown): boolean {
  return isObject(client) && typeof client.isOpen === 'boolean' && typeof client.status !== 'string' && hasMethods(client, 'pTTL', 'eval', 'set', 'subscribe', 'unsubscribe');
}

/** Which client `client` is, by its own marks; `undefined` when it is none the lock can drive. */
export function redisClientKind(client: unknown): RedisClientKind | undefined {
  if (isIoredis(client)) return (client as Loose).isCluster === true ? 'ioredis-cluster' : 'ioredis';
  if (!isNodeRedis(client)) return undefined;
  const c = client as Loose;
  // Sentinel: getMasterNode/getSentinelNode; cluster: nodeClient/getSlotRandomNode; a plain client has neither.
  if (hasMethods(c, 'getMasterNode', 'getSentinelNode')) return 'node-redis-sentinel';
  if (typeof c.nodeClient === 'function' || typeof c.getSlotRandomNode === 'function') return 'node-redis-cluster';
  return typeof c.duplicate === 'function' ? 'node-redis' : undefined;
}

/**
 * Subscribe through the client itself: node-redis's cluster and Sentinel clients and ioredis's
 * `Cluster` keep pub/sub on a connection of their own, apart from the command connections, and
 * resubscribe after a failover. Messages reach `listeners` by channel.
 */
function sharedSubscriber(subscribe: (channel: string, fire: () => void) => Promise<unknown>, unsubscribe: (channel: string, fire: () => void) => Promise<unknown>, detach = () => {}): LockSubscriber {
  const listeners = new Map<string, () => void>();
  return {
    async subscribe(channel, onMessage) {
      const fire = () => onMessage();
      listeners.set(channel, fire);
      await subscribe(channel, fire);
    },
    async unsubscribe(channel) {
      const fire = listeners.get(channel);
      listeners.delete(channel);
      if (fire) await unsubscribe(channel, fire);
    },
    async close() {
      const open = [...listeners];
      listeners.clear();
      detach();
      await Promise.all(open.map(([channel, fire]) => unsubscribe(channel, fire).catch(() => {})));
    },
  };
}

function ioredisCommands(client: Loose, kind: 'ioredis' | 'ioredis-cluster'): LockCommands {
  return {
    kind,
    setIfAbsent: async (key, value, ttlMs) => (await call(client, 'set', key, value, 'PX', ttlMs, 'NX')) === 'OK',
    evaluate: (script, keys, args) => call(client, 'eval', script, keys.length, ...keys, ...args) as Promise<unknown>,
    pttl: async (key) => Number(await call(client, 'pttl', key)),
    get: async (key) => (await call(client, 'get', key)) as string | null,
    async openSubscriber(onError) {
      if (kind === 'ioredis-cluster') {
        // Cluster#subscribe goes to its ClusterSubscriber connection (one node, re-chosen on failure).
        const byChannel = new Map<string, () => void>();
        const onMessage = (channel: string) => byChannel.get(channel)?.();
        call(client, 'on', 'message', onMessage);
        return sharedSubscriber(
          async (channel, fire) => {
            byChannel.set(channel, fire);
            await call(client, 'subscribe', channel);
          },
          async (channel) => {
            byChannel.delete(channel);
            await call(client, 'unsubscribe', channel);
          },
          () => call(client, 'off', 'message', onMessage),
        );
      }
      // A single instance, or a Sentinel-managed master (the duplicate asks the sentinels too).
      const sub = call(client, 'duplicate', { enableOfflineQueue: true }) as Loose;
      const listeners = new Map<string, () => void>();
      const unref = () => (sub.stream as { unref?: () => void } | undefined)?.unref?.();
      call(sub, 'on', 'error', onError);
      call(sub, 'on', 'connect', unref);
      call(sub, 'on', 'message', (channel: string) => listeners.get(channel)?.());
      unref();
      return {
        async subscribe(channel, onMessage) {
          listeners.set(channel, onMessage);
          await call(sub, 'subscribe', channel);
        },
        async unsubscribe(channel) {
          listeners.delete(channel);
          await call(sub, 'unsubscribe', channel);
        },
        async close() {
          listeners.clear();
          call(sub, 'disconnect');
        },
      };
    },
  };
}

function nodeRedisCommands(client: Loose, kind: 'node-redis' | 'node-redis-cluster' | 'node-redis-sentinel'): LockCommands {
  return {
    kind,
    // `expiration`/`condition` (node-redis 5+) and `PX`/`NX` (node-redis 4, deprecated in 5): each
    // version reads the form it knows and ignores the other.
    setIfAbsent: async (key, value, ttlMs) => (await call(client, 'set', key, value, { expiration: { type: 'PX', value: ttlMs }, condition: 'NX', PX: ttlMs, NX: true })) === 'OK',
    evaluate: (script, keys, args) => call(client, 'eval', script, { keys, arguments: args }) as Promise<unknown>,
    pttl: async (key) => Number(await call(client, 'pTTL', key)),
    get: async (key) => (await call(client, 'get', key)) as string | null,
    async openSubscriber(onError) {
      if (kind !== 'node-redis') {
        return sharedSubscriber(
          (channel, fire) => call(client, 'subscribe', channel, fire) as Promise<unknown>,
          (channel, fire) => call(client, 'unsubscribe', channel, fire) as Promise<unknown>,
        );
      }
      // A plain client in subscriber mode cannot run commands: a connection of our own.
      const sub = call(client, 'duplicate') as Loose;
      call(sub, 'on', 'error', onError);
      const close = async () => void (typeof sub.destroy === 'function' ? call(sub, 'destroy') : await call(sub, 'disconnect'));
      try {
        await call(sub, 'connect');
      } catch (err) {
        await close().catch(() => {});
        throw err;
      }
      if (typeof sub.unref === 'function') call(sub, 'unref');
      return {
        subscribe: async (channel, onMessage) => void (await call(sub, 'subscribe', channel, onMessage)),
        unsubscribe: async (channel) => void (await call(sub, 'unsubscribe', channel)),
        close,
      };
    },
  };
}

/**
 * Recognise the client library and topology and drive it through its own API. ioredis is checked
 * first and by its own marks: it also has a `sendCommand`, with a different signature than
 * node-redis's.
 */
export function lockCommands(client: unknown): LockCommands {
  const kind = redisClientKind(client);
  if (kind === 'ioredis' || kind === 'ioredis-cluster') return ioredisCommands(client as Loose, kind);
  if (kind) return nodeRedisCommands(client as Loose, kind);
  throw configError(
    'lock',
    'must be given a connected Redis client: node-redis (v4+: createClient, createCluster or createSentinel) or ioredis (new Redis, new Cluster, or Redis with sentinels): redisLock(client)',
  );
}
