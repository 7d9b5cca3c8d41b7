import { createClient } from 'redis';
import { redisLock } from 'express-oauth2-session';
import { requireRedisOrSkip, startRedisServer, type RedisServer } from '../support/redis-server';

const haveRedis = requireRedisOrSkip();
const describeRedis = haveRedis ? describe : describe.skip;

describeRedis('redisLock against a real redis-server', () => {
  let redis: RedisServer;
  let client: ReturnType<typeof createClient>;
  beforeAll(async () => {
    redis = await startRedisServer();
    client = createClient({ url: redis.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.quit();
    await redis?.stop();
  });

  it('should give the lock to exactly one of 50 concurrent callers', async () => {
    const lock = redisLock(client);
    const results = await Promise.all(Array.from({ length: 50 }, () => lock.acquire('storm', 5000)));
    expect(results.filter(Boolean)).toHaveLength(1);
    await results.find(Boolean)!();
    expect(await client.exists('oauth-lock:storm')).toBe(0);
  });

  it('should be acquirable again after release, and not before', async () => {
    const lock = redisLock(client);
    const release = await lock.acquire('k1', 5000);
    expect(release).toBeInstanceOf(Function);
    expect(await lock.acquire('k1', 5000)).toBeUndefined();
    await release!();
    const again = await lock.acquire('k1', 5000);
    expect(again).toBeInstanceOf(Function);
    await again!();
  });

  it('should not let a holder whose lock expired release the next holder', async () => {
    const lock = redisLock(client);
    const stale = await lock.acquire('k2', 50);
    await new Promise((r) => setTimeout(r, 120));
    const current = await lock.acquire('k2', 5000);
    expect(current).toBeInstanceOf(Function);
    const holder = await client.get('oauth-lock:k2');
    await stale!();
    expect(await client.get('oauth-lock:k2')).toBe(holder);
    await current!();
    expect(await client.get('oauth-lock:k2')).toBeNull();
  });

  it('should become free after its TTL when the holder dies without releasing', async () => {
    const lock = redisLock(client);
    expect(await lock.acquire('k3', 100)).toBeInstanceOf(Function); // never released
    expect(await lock.acquire('k3', 100)).toBeUndefined();
    await lock.waitForRelease('k3', 2000);
    expect(await lock.acquire('k3', 100)).toBeInstanceOf(Function);
  });

  it('should wake waiters on release and give up at maxWait when never released', async () => {
    const lock = redisLock(client, { pollIntervalMs: 10 });
    const release = await lock.acquire('k4', 10_000);
    let woke = false;
    const waiting = lock.waitForRelease('k4', 5000).then(() => (woke = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(woke).toBe(false);
    await release!();
    await waiting;
    expect(await client.exists('oauth-lock:k4')).toBe(0);

    await lock.acquire('k5', 10_000);
    const started = Date.now();
    await lock.waitForRelease('k5', 150);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(await client.exists('oauth-lock:k5')).toBe(1);
  });

  it('should reject a value that is not a Redis client with a TypeError naming `lock`', () => {
    expect(() => redisLock({} as never)).toThrow(TypeError);
    expect(() => redisLock({} as never)).toThrow(/`lock`/);
  });
});
