import { configError } from '../errors.js';

/** A second connection in subscriber mode, owned by the lock (see `RedisRefreshLock.close`). */
export interface LockSubscriber {
  /** Resolves once Redis confirmed the subscription; `onMessage` runs on every message after that. */
  subscribe(channel: string, onMessage: () => void): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  close(): Promise<void>;
}

/** The few Redis operations the refresh lock needs, over either client library's documented API. */
export interface LockCommands {
  /** `SET key value PX ttlMs NX`: true when set. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  evaluate(script: string, keys: string[], args: string[]): Promise<unknown>;
  /** Remaining time to live in ms; -2 when the key does not exist, -1 when it has no expiry. */
  pttl(key: string): Promise<number>;
  /** Open a subscriber connection (`client.duplicate()`), unref'd where the library allows. */
  openSubscriber(onError: (err: Error) => void): Promise<LockSubscriber>;
}

type Loose = Record<string, unknown>;
const call = (target: unknown, method: string, ...args: unknown[]): unknown => ((target as Loose)[method] as (...a: unknown[]) => unknown).apply(target, args);
const isObject = (value: unknown): value is Loose => typeof value === 'object' && value !== null;

/** ioredis `Redis` or `Cluster`: both have a string `status` and an `options` object. */
export function isIoredis(client: unknown): boolean {
  return isObject(client) && typeof client.status === 'string' && isObject(client.options) && typeof client.duplicate === 'function';
}

/** node-redis 4/5 (`createClient`): boolean `isOpen` and `isReady`, no `status`. */
export function isNodeRedis(client: unknown): boolean {
  return isObject(client) && typeof client.isOpen === 'boolean' && typeof client.isReady === 'boolean' && typeof client.duplicate === 'function';
}

function ioredisCommands(client: Loose): LockCommands {
  return {
    setIfAbsent: async (key, value, ttlMs) => (await call(client, 'set', key, value, 'PX', ttlMs, 'NX')) === 'OK',
    evaluate: (script, keys, args) => call(client, 'eval', script, keys.length, ...keys, ...args) as Promise<unknown>,
    pttl: async (key) => Number(await call(client, 'pttl', key)),
    async openSubscriber(onError) {
      // Cluster#duplicate(startupNodes, options) differs from Redis#duplicate(options).
      const sub = (client.isCluster === true ? call(client, 'duplicate', [], { enableOfflineQueue: true }) : call(client, 'duplicate', { enableOfflineQueue: true })) as Loose;
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

function nodeRedisCommands(client: Loose): LockCommands {
  return {
    setIfAbsent: async (key, value, ttlMs) => (await call(client, 'set', key, value, { PX: ttlMs, NX: true })) === 'OK',
    evaluate: (script, keys, args) => call(client, 'eval', script, { keys, arguments: args }) as Promise<unknown>,
    pttl: async (key) => Number(await call(client, 'pTTL', key)),
    async openSubscriber(onError) {
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
 * Recognise the client library and drive it through its own API. ioredis is checked first and by
 * its own marks: it also has a `sendCommand`, with a different signature than node-redis's.
 */
export function lockCommands(client: unknown): LockCommands {
  if (isIoredis(client)) return ioredisCommands(client as Loose);
  if (isNodeRedis(client)) return nodeRedisCommands(client as Loose);
  throw configError('lock', 'must be given a node-redis (v4+, createClient) or ioredis (new Redis) client: redisLock(client)');
}
