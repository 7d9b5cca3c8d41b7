// How long a waiter in another process learns of a release: `node --import tsx bench/lock-wakeup.ts`.
// Two lock instances (each with its own connections, as two processes have) on one redis-server;
// per round the holder takes the lock, the waiter waits, and after a random 5–50 ms the holder
// releases; the wakeup latency is from the release call to the waiter's return. Compared: redisLock
// on node-redis and on ioredis (pub/sub wakeups) and the lock before them (25 ms polling).
// Also the other path, which the tests only bound loosely (it depends on scheduling): a holder that
// died leaves its lock (PX 600) to expire, no release message comes, and the waiter's fallback checks
// (every 250 ms, the last nap ending at the expiry) find it gone: how late after the expiry, and how
// many checks per wait. BENCH_WAKEUP_ROUNDS (default 200; the holder-died rounds are a tenth of it).
// Prints one JSON line.
import type { RedisRefreshLock, RefreshLock } from 'express-oauth2-session';
import { redisLock } from 'express-oauth2-session';
import { connectClient, connectNodeRedis, type ConnectedClient, type NodeRedisClient, type RedisClientKind } from '../test/support/redis-clients';
import { startRedisServer } from '../test/support/redis-server';
import { pollingLock } from './polling-lock';

const ROUNDS = Number(process.env.BENCH_WAKEUP_ROUNDS ?? 200);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] as number;

async function measure(holder: RefreshLock, waiter: RefreshLock): Promise<{ p50: number; p99: number; max: number }> {
  const ms: number[] = [];
  for (let i = 0; i < ROUNDS; i += 1) {
    const lease = await holder.acquire('wakeup', 10_000);
    if (!lease) throw new Error('the lock was not free');
    let woke = 0;
    const waiting = waiter.waitForRelease('wakeup', 10_000).then(() => (woke = performance.now()));
    await sleep(5 + Math.random() * 45);
    const released = performance.now();
    await lease.release();
    await waiting;
    ms.push(woke - released);
  }
  return { p50: percentile(ms, 0.5), p99: percentile(ms, 0.99), max: Math.max(...ms) };
}

const DEAD_HOLDER_PX = 600;

/** The holder died: its lock expires by itself. Lateness is from the expiry to the waiter's return. */
async function measureDeadHolder(plain: NodeRedisClient, waiter: RedisRefreshLock) {
  const ms: number[] = [];
  const checksBefore = waiter.stats.fallbackChecks;
  const rounds = Math.max(1, Math.round(ROUNDS / 10));
  for (let i = 0; i < rounds; i += 1) {
    const setAt = performance.now();
    await plain.set('oauth-lock:died', 'holder-that-crashed', { PX: DEAD_HOLDER_PX });
    await waiter.waitForRelease('died', 10_000);
    ms.push(performance.now() - (setAt + DEAD_HOLDER_PX));
  }
  return { rounds, lateP50: percentile(ms, 0.5), lateMax: Math.max(...ms), fallbackChecksPerWait: (waiter.stats.fallbackChecks - checksBefore) / rounds, waiterStats: { ...waiter.stats } };
}

async function main(): Promise<void> {
  const redis = await startRedisServer();
  const connections: ConnectedClient[] = [];
  const connect = async (kind: RedisClientKind) => {
    const c = await connectClient(kind, redis.url);
    connections.push(c);
    return c.client;
  };
  const result: Record<string, unknown> = { rounds: ROUNDS };
  try {
    for (const kind of ['node-redis', 'ioredis'] as const) {
      const [holder, waiter] = [redisLock(await connect(kind)), redisLock(await connect(kind))];
      result[`pubsub ${kind}`] = { ...(await measure(holder, waiter)), waiterStats: { ...waiter.stats } };
      await Promise.all([holder.close(), waiter.close()]);
      const [plain, deadWaiter] = [await connectNodeRedis(redis.url), redisLock(await connect(kind))];
      result[`holder died ${kind}`] = await measureDeadHolder(plain, deadWaiter);
      await Promise.all([deadWaiter.close(), plain.quit()]);
    }
    result['polling 25 ms (before)'] = await measure(pollingLock(await connect('node-redis')), pollingLock(await connect('node-redis')));
  } finally {
    await Promise.all(connections.map((c) => c.quit()));
    await redis.stop();
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

void main();
