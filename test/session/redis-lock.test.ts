import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster, createSentinel } from 'redis';
import { redisLock, SessionUnavailableError, type RedisRefreshLock } from 'express-oauth2-session';
import { isIoredis, isNodeRedis, redisClientKind } from '../../lib/session/redis-commands';
import { describeRedisError } from '../../lib/session/redis-lock';
import { connectClient, connectNodeRedis, REDIS_CLIENT_KINDS, type ConnectedClient, type NodeRedisClient } from '../support/redis-clients';
import { requireRedisOrSkip, startRedisServer, type RedisServer } from '../support/redis-server';

const describeRedis = requireRedisOrSkip() ? describe : describe.skip;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const aLease = { extend: expect.any(Function), isHeld: expect.any(Function), release: expect.any(Function) };

describeRedis.each(REDIS_CLIENT_KINDS)('redisLock with %s against a real redis-server', (kind) => {
  let redis: RedisServer;
  let connected: ConnectedClient;
  let admin: NodeRedisClient; // inspects keys and subscriptions, whichever library the lock uses
  const locks: RedisRefreshLock[] = [];
  const newLock = (options?: Parameters<typeof redisLock>[1]) => {
    const lock = redisLock(connected.client, options);
    locks.push(lock);
    return lock;
  };
  const subscribers = async (name: string) => Number((await admin.pubSubNumSub(name))[name] ?? 0);
  async function until(condition: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 200 && !(await condition()); i += 1) await sleep(10);
  }

  beforeAll(async () => {
    redis = await startRedisServer();
    [connected, admin] = await Promise.all([connectClient(kind, redis.url), connectNodeRedis(redis.url)]);
  });
  afterAll(async () => {
    await Promise.all(locks.map((l) => l.close()));
    await connected?.quit();
    await admin?.quit();
    await redis?.stop();
  });

  it('should give the lock to exactly one of 50 concurrent callers, and release it', async () => {
    const lock = newLock();
    const results = await Promise.all(Array.from({ length: 50 }, () => lock.acquire('storm', 5000)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await admin.pTTL('oauth-lock:storm')).toBeGreaterThan(4000);
    await results.find(Boolean)!.release();
    expect(await admin.exists('oauth-lock:storm')).toBe(0);
  });

  it('should be acquirable again after release, and not before', async () => {
    const lock = newLock();
    const lease = await lock.acquire('k1', 5000);
    expect(lease).toEqual(aLease);
    expect(await lock.acquire('k1', 5000)).toBeUndefined();
    await lease!.release();
    const again = await lock.acquire('k1', 5000);
    expect(again).toEqual(aLease);
    await again!.release();
  });

  it('should not let a holder whose lock expired release the next holder', async () => {
    const lock = newLock();
    const stale = await lock.acquire('k2', 50);
    await sleep(120);
    const current = await lock.acquire('k2', 5000);
    expect(current).toEqual(aLease);
    const holder = await admin.get('oauth-lock:k2');
    await stale!.release();
    expect(await admin.get('oauth-lock:k2')).toBe(holder);
    await current!.release();
    expect(await admin.get('oauth-lock:k2')).toBeNull();
  });

  it('should extend a held lease, and a lapsed one neither extends nor releases the next holder', async () => {
    const lock = newLock();
    const lease = (await lock.acquire('lease1', 200))!;
    expect(await lease.isHeld()).toBe(true);
    await sleep(120);
    expect(await lease.extend(5000)).toBe(true); // past its first TTL, still ours
    expect(await admin.pTTL('oauth-lock:lease1')).toBeGreaterThan(4000);
    await sleep(150);
    expect(await lease.isHeld()).toBe(true);
    expect(await lock.acquire('lease1', 5000)).toBeUndefined();
    await lease.release();
    expect(await lease.isHeld()).toBe(false);
    expect(await lease.extend(5000)).toBe(false); // released: not recreated
    expect(await admin.exists('oauth-lock:lease1')).toBe(0);

    const lapsed = (await lock.acquire('lease2', 60))!;
    await sleep(120);
    expect(await lapsed.isHeld()).toBe(false);
    const next = (await lock.acquire('lease2', 5000))!;
    expect(await lapsed.extend(5000)).toBe(false);
    await lapsed.release();
    expect(await next.isHeld()).toBe(true);
    expect(await admin.pTTL('oauth-lock:lease2')).toBeGreaterThan(4000);
    await next.release();
  });

  it("should bound every command by the caller's timeoutMs while Redis is paused, as a 503", async () => {
    const lock = newLock({ pollIntervalMs: 50 });
    const held = (await lock.acquire('paused-held', 30_000))!;
    redis.pause(); // SIGSTOP: connections stay open, nothing answers
    try {
      const timed = async (call: () => Promise<unknown>) => {
        const started = Date.now();
        const err = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        return { err: err as SessionUnavailableError, ms: Date.now() - started };
      };
      for (const call of [
        () => lock.acquire('paused', 30_000, { timeoutMs: 300 }),
        () => lock.waitForRelease('paused-held', 30_000, { timeoutMs: 300 }),
        () => held.extend(30_000, { timeoutMs: 300 }),
        () => held.isHeld({ timeoutMs: 300 }),
        () => held.release({ timeoutMs: 300 }),
      ]) {
        const { err, ms } = await timed(call);
        expect(err).toBeInstanceOf(SessionUnavailableError);
        expect(err.status).toBe(503);
        expect(err.message).toBe('The Redis refresh lock did not answer within 300 ms; try again shortly.');
        // Redis stays paused until every call returned: each one ended at its own deadline.
        expect(ms).toBeGreaterThanOrEqual(290);
      }
    } finally {
      redis.resume();
    }
    // The commands sent while paused ran after the resume: the SET took the lock and it was given
    // back at once; the timed-out release still released.
    await until(async () => (await admin.exists('oauth-lock:paused')) + (await admin.exists('oauth-lock:paused-held')) === 0);
    expect(await admin.exists('oauth-lock:paused')).toBe(0);
    expect(await admin.exists('oauth-lock:paused-held')).toBe(0);
    expect(await held.isHeld()).toBe(false);
    await held.release(); // a retry after the timed-out one: nothing left to release, no error
  });

  it("should end a wait at the caller's timeoutMs like at maxWaitMs, and reject a call with no time left", async () => {
    const lock = newLock({ pollIntervalMs: 40 });
    const lease = (await lock.acquire('budget', 10_000))!;
    const started = Date.now();
    await lock.waitForRelease('budget', 10_000, { timeoutMs: 150 });
    // Ended by the 150 ms budget, not the 10 s maxWait (the lock is still held); no tighter bound on a loaded machine.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(lock.stats.timedOut).toBe(1);
    await expect(lock.acquire('budget2', 1000, { timeoutMs: 0 })).rejects.toThrow('The Redis refresh lock was called with no time left; try again shortly.');
    expect(await admin.exists('oauth-lock:budget2')).toBe(0);
    await lease.release();
  });

  it('should wake a waiter in another lock instance by the release message, not by a fallback check', async () => {
    const holder = newLock();
    const waiter = newLock({ pollIntervalMs: 60_000 }); // another process: its own subscriber connection
    const lease = await holder.acquire('k4', 30_000);
    let woke = false;
    const waiting = waiter.waitForRelease('k4', 30_000).then(() => (woke = true));
    await until(async () => (await subscribers('oauth-lock:k4')) === 1);
    expect(woke).toBe(false);
    await lease!.release();
    await waiting;
    // Woken by the message; on a loaded machine the waiter's own check right after subscribing may
    // run after the release and find the key free instead. Never by the 60 s fallback poll.
    const { wokenByMessage, foundFree, ...rest } = waiter.stats;
    expect(rest).toEqual({ wokenByFallback: 0, fallbackChecks: 0, timedOut: 0 });
    expect(wokenByMessage + foundFree).toBe(1);
    await until(async () => (await subscribers('oauth-lock:k4')) === 0); // the last waiter unsubscribed
    expect(await subscribers('oauth-lock:k4')).toBe(0);
  });

  it('should share one subscription among the waiters of one key and wake them all', async () => {
    const holder = newLock();
    const waiter = newLock({ pollIntervalMs: 60_000 });
    const lease = await holder.acquire('k5', 30_000);
    const waiting = Promise.all(Array.from({ length: 10 }, () => waiter.waitForRelease('k5', 30_000)));
    await until(async () => (await subscribers('oauth-lock:k5')) === 1);
    await sleep(50);
    expect(await subscribers('oauth-lock:k5')).toBe(1);
    await lease!.release();
    await waiting;
    const { wokenByMessage, foundFree, ...rest } = waiter.stats;
    expect(rest).toEqual({ wokenByFallback: 0, fallbackChecks: 0, timedOut: 0 });
    expect(wokenByMessage + foundFree).toBe(10);
    expect(wokenByMessage).toBeGreaterThanOrEqual(1); // one release message reached the shared subscription
  });

  it('should let exactly one waiter take over when the holder dies without releasing', async () => {
    const crashed = newLock();
    expect(await crashed.acquire('k3', 300)).toEqual(aLease); // never released
    const waiters = Array.from({ length: 5 }, () => newLock({ pollIntervalMs: 60_000 }));
    let refreshed = false;
    const tookOver: RedisRefreshLock[] = [];
    // Each waiter does what the refresher does: wait, re-read (here: `refreshed`), else try to take over.
    await Promise.all(
      waiters.map(async (lock) => {
        expect(await lock.acquire('k3', 5000)).toBeUndefined();
        for (;;) {
          await lock.waitForRelease('k3', 5000);
          if (refreshed) return;
          const lease = await lock.acquire('k3', 5000);
          if (!lease) continue;
          tookOver.push(lock);
          await sleep(20);
          refreshed = true;
          return lease.release();
        }
      }),
    );
    expect(tookOver).toHaveLength(1);
    // With a 60 s poll interval, the one that took over slept until the crashed lock's expiry (or,
    // on a loaded machine, first checked after it and found the key free): never by a message.
    const { wokenByFallback, foundFree, ...rest } = tookOver[0]!.stats;
    expect(rest).toMatchObject({ wokenByMessage: 0, timedOut: 0 });
    expect(wokenByFallback + foundFree).toBe(1);
    expect(waiters.map((l) => l.stats.timedOut)).toEqual([0, 0, 0, 0, 0]);
  });

  it('should give up at maxWait when the lock is never released', async () => {
    const lock = newLock({ pollIntervalMs: 40 });
    await lock.acquire('k6', 10_000);
    const started = Date.now();
    await lock.waitForRelease('k6', 150);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(lock.stats.timedOut).toBe(1);
    // It kept checking while it waited (about one check per 40 ms; fewer when the machine is loaded).
    expect(lock.stats.fallbackChecks).toBeGreaterThanOrEqual(1);
    expect(await admin.exists('oauth-lock:k6')).toBe(1);
  });

  it('should close its subscriber connection on close(), and still wait by polling after it', async () => {
    const clientsNow = async () => (await admin.clientList()).length;
    const before = await clientsNow();
    const lock = newLock({ pollIntervalMs: 20 });
    const lease = await lock.acquire('k7', 10_000);
    const waiting = lock.waitForRelease('k7', 10_000);
    await until(async () => (await subscribers('oauth-lock:k7')) === 1);
    expect(await clientsNow()).toBe(before + 1);
    await lease!.release();
    await waiting;
    await lock.close();
    await until(async () => (await clientsNow()) === before);
    expect(await clientsNow()).toBe(before);

    const again = await lock.acquire('k7', 10_000);
    const polled = lock.waitForRelease('k7', 10_000);
    await until(async () => lock.stats.fallbackChecks >= 2); // still polling while the holder holds
    await again!.release();
    await polled;
    // The first wait: the release message (or its check right after subscribing); the second: polling.
    expect(lock.stats.wokenByMessage + lock.stats.foundFree).toBe(1);
    expect([lock.stats.wokenByFallback, lock.stats.timedOut]).toEqual([1, 0]);
    expect(lock.stats.fallbackChecks).toBeGreaterThanOrEqual(2);
    expect(await clientsNow()).toBe(before);
  });

  it('should not keep a process alive with its subscriber connection, even without close()', async () => {
    const probe = path.join(__dirname, '../support/lock-exit-probe.ts');
    const env = { ...process.env, NODE_OPTIONS: '' };
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', probe, kind, redis.url], { cwd: path.join(__dirname, '../..'), env, timeout: 15_000 });
    const stats = JSON.parse(stdout) as RedisRefreshLock['stats'];
    expect([stats.wokenByMessage + stats.foundFree, stats.wokenByFallback, stats.fallbackChecks, stats.timedOut]).toEqual([1, 0, 0, 0]);
  }, 20_000);

  it('should reject with a 503 naming the Redis error when the client is closed', async () => {
    const closed = await connectClient(kind, redis.url);
    const lock = newLock();
    const closedLock = redisLock(closed.client);
    await closed.quit();
    const err = (await closedLock.acquire('k8', 1000).catch((e: unknown) => e)) as SessionUnavailableError;
    expect(err).toBeInstanceOf(SessionUnavailableError);
    expect(err.status).toBe(503);
    expect(err.message).toBe(`The Redis refresh lock failed: ${(err.cause as Error).message}; try again shortly.`);
    expect((err.cause as Error).message).toMatch(/closed/i);
    expect(await lock.acquire('k8', 1000)).toEqual(aLease); // the open client is unaffected
  });
});

describeRedis('redisLock with an ioredis keyPrefix', () => {
  it('should prefix the lock key and still wake waiters by the release message', async () => {
    const redis = await startRedisServer();
    const prefixed = new Redis(redis.url, { keyPrefix: 'app1:' });
    const plain = new Redis(redis.url);
    const holder = redisLock(prefixed);
    const waiter = redisLock(prefixed, { pollIntervalMs: 60_000 });
    try {
      const lease = await holder.acquire('k', 30_000);
      expect(await plain.exists('app1:oauth-lock:k')).toBe(1);
      const waiting = waiter.waitForRelease('k', 30_000);
      for (let i = 0; i < 200 && Number((await plain.pubsub('NUMSUB', 'oauth-lock:k'))[1]) !== 1; i += 1) await sleep(10);
      await lease!.release();
      await waiting;
      const { wokenByMessage, foundFree, ...rest } = waiter.stats;
      expect(rest).toEqual({ wokenByFallback: 0, fallbackChecks: 0, timedOut: 0 });
      expect(wokenByMessage + foundFree).toBe(1);
      expect(await plain.exists('app1:oauth-lock:k')).toBe(0);
    } finally {
      await Promise.all([holder.close(), waiter.close()]);
      await Promise.all([prefixed.quit(), plain.quit()]);
      await redis.stop();
    }
  });
});

describe('redisLock client detection', () => {
  it('should recognise each library by its own marks, although both have sendCommand', () => {
    const io = new Redis({ lazyConnect: true });
    const node = createClient();
    expect([typeof io.sendCommand, typeof node.sendCommand]).toEqual(['function', 'function']);
    expect([isIoredis(io), isNodeRedis(io)]).toEqual([true, false]);
    expect([isIoredis(node), isNodeRedis(node)]).toEqual([false, true]);
    expect(redisLock(io).stats).toEqual({ wokenByMessage: 0, wokenByFallback: 0, foundFree: 0, fallbackChecks: 0, timedOut: 0 });
    expect(redisLock(node).stats).toEqual({ wokenByMessage: 0, wokenByFallback: 0, foundFree: 0, fallbackChecks: 0, timedOut: 0 });
  });

  it('should recognise the Cluster and Sentinel clients of both libraries, node-redis 5 ones without isReady or duplicate()', () => {
    const nodeCluster = createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:7000' }] });
    const nodeSentinel = createSentinel({ name: 'm', sentinelRootNodes: [{ host: '127.0.0.1', port: 26379 }] });
    const ioCluster = new Cluster([{ host: '127.0.0.1', port: 7000 }], { lazyConnect: true });
    const ioSentinel = new Redis({ name: 'm', sentinels: [{ host: '127.0.0.1', port: 26379 }], lazyConnect: true });
    expect(['isReady' in nodeCluster, 'duplicate' in nodeSentinel]).toEqual([false, false]); // what node-redis 5 lacks
    expect([nodeCluster, nodeSentinel, ioCluster, ioSentinel, createClient(), new Redis({ lazyConnect: true })].map(redisClientKind)).toEqual([
      'node-redis-cluster',
      'node-redis-sentinel',
      'ioredis-cluster',
      'ioredis',
      'node-redis',
      'ioredis',
    ]);
    for (const client of [nodeCluster, nodeSentinel, ioCluster, ioSentinel]) expect(redisLock(client).stats.timedOut).toBe(0);
    // node-redis 6's shape: the same marks, plus isReady on the cluster client.
    const fn = () => undefined;
    const v6Cluster = { isOpen: true, isReady: true, pTTL: fn, eval: fn, set: fn, get: fn, subscribe: fn, unsubscribe: fn, nodeClient: fn, duplicate: fn };
    expect(redisClientKind(v6Cluster)).toBe('node-redis-cluster');
    expect(redisClientKind({ ...v6Cluster, nodeClient: undefined, getMasterNode: fn, getSentinelNode: fn, duplicate: undefined })).toBe('node-redis-sentinel');
    expect(redisClientKind({ ...v6Cluster, nodeClient: undefined })).toBe('node-redis');
    expect(redisClientKind({ ...v6Cluster, nodeClient: undefined, duplicate: undefined })).toBeUndefined(); // a plain client needs duplicate()
  });

  it('should describe a Redis error without the credentials of a URL in it', () => {
    const err = new Error('connect ECONNREFUSED for redis://app:s3cret@cache.internal:6379/0 and rediss://:pw@x');
    expect(describeRedisError(err)).toBe('connect ECONNREFUSED for redis://***@cache.internal:6379/0 and rediss://***@x');
    expect(describeRedisError(new Error('x'.repeat(300)))).toBe(`${'x'.repeat(200)}…`);
    expect(describeRedisError('WRONGPASS\n invalid username-password pair')).toBe('WRONGPASS invalid username-password pair');
  });

  it('should reject a value that is not a Redis client with a TypeError naming `lock`', () => {
    expect(() => redisLock({} as never)).toThrow(TypeError);
    expect(() => redisLock({} as never)).toThrow(/`lock`/);
    const sendCommandOnly = { sendCommand: async () => 'OK', duplicate: () => ({}), eval: async () => 1, subscribe: async () => {} };
    expect(() => redisLock(sendCommandOnly)).toThrow(/node-redis \(v4\+: createClient, createCluster or createSentinel\) or ioredis/);
    expect(() => redisLock(createClient(), { pollIntervalMs: 0 })).toThrow(/`pollIntervalMs` must be a number of milliseconds ≥ 1/);
  });
});
