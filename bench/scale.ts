// `npm run bench:scale`: 100,000 logged-in sessions in a real redis-server, 4 app processes
// (bench/storm-worker.ts: connect-redis + redisLock) behind autocannon, and 1,000 of the sessions'
// access tokens expiring at the same instant under load. Reports the token calls counted at the
// token endpoint (must be exactly the number of expiring sessions), failed requests (must be 0),
// p99, throughput and Redis bytes per session. Not part of npm test.
//
// Environment: SCALE_SESSIONS (100000), SCALE_EXPIRING (1000), SCALE_CONNECTIONS (48),
// SCALE_WARMUP_SECONDS (5), SCALE_LOCK_CLIENT (node-redis | ioredis).
import { RedisStore } from 'connect-redis';
import type { OAuthMiddlewareOptions } from 'express-oauth2-session';
import { startTestProvider } from 'express-oauth2-session/testing';
import { connectNodeRedis, type RedisClientKind } from '../test/support/redis-clients';
import { startRedisServer } from '../test/support/redis-server';
import { forkReady, freePort, realLogin, sumLockStats } from './bench-kit';
import { runLoad } from './scale-load';
import { readLoginShape, sampleKeyBytes, seedSessions, sessionCookie, usedMemory } from './scale-seed';

const SESSIONS = Number(process.env.SCALE_SESSIONS ?? 100_000);
const EXPIRING = Math.min(SESSIONS, Number(process.env.SCALE_EXPIRING ?? 1000));
const CONNECTIONS = Number(process.env.SCALE_CONNECTIONS ?? 48);
const WARMUP_MS = Number(process.env.SCALE_WARMUP_SECONDS ?? 5) * 1000;
const LOCK_CLIENT = (process.env.SCALE_LOCK_CLIENT ?? 'node-redis') as RedisClientKind;
const PROCESSES = 4;
const FAR_FUTURE = Date.now() + 24 * 3600 * 1000;

type Stop = () => Promise<void>;
const stops: Stop[] = [];
const log = (line: string) => process.stderr.write(`[scale] ${line}\n`);

async function startStack() {
  const redis = await startRedisServer();
  stops.push(() => redis.stop());
  const port = await freePort();
  const provider = await startTestProvider({ redirectUris: [`http://127.0.0.1:${port}/callback`], accessTokenTTL: 3600 });
  stops.push(() => provider.stop());
  const api = await forkReady('api-server.mjs', {}, false);
  const tokens = await forkReady('scale-token-endpoint.mjs', { upstream: provider.endpoints.token }, false);
  stops.push(api.stop, tokens.stop);
  const oauth: OAuthMiddlewareOptions = provider.providerOptions({ redirectUri: `http://127.0.0.1:${port}/callback`, tokenUrl: `${tokens.url}/token`, apiBaseUrl: api.url, refreshLeewaySeconds: 0 });
  const workers = await Promise.all(
    Array.from({ length: PROCESSES }, (_, i) => forkReady('storm-worker.ts', { oauth, redisUrl: redis.url, lockClient: LOCK_CLIENT, ...(i === 0 ? { port } : {}) }, true)),
  );
  stops.push(...workers.map((w) => w.stop));
  return { redis, workers, tokensUrl: tokens.url };
}

async function main(): Promise<void> {
  const { redis, workers, tokensUrl } = await startStack();
  const client = await connectNodeRedis(redis.url);
  stops.push(async () => void (await client.quit()));
  const store = new RedisStore({ client, prefix: 'sess:' });
  const shape = await readLoginShape(store, await realLogin(workers[0]!.url));

  log(`seeding ${SESSIONS} sessions (${EXPIRING} of them expiring) with the lock on ${LOCK_CLIENT}`);
  const before = await usedMemory(client);
  const t0 = Date.now();
  const steady = await seedSessions(store, shape, SESSIONS - EXPIRING, FAR_FUTURE);
  const expireAt = Date.now() + WARMUP_MS + 1000; // the load starts within a second
  const expiring = await seedSessions(store, shape, EXPIRING, expireAt);
  const seedSeconds = (Date.now() - t0) / 1000;
  const bytesPerSession = ((await usedMemory(client)) - before) / SESSIONS;
  const keyBytes = await sampleKeyBytes(client, [...steady, ...expiring]);
  log(`seeded in ${seedSeconds.toFixed(1)} s; load for ${(WARMUP_MS / 1000).toFixed(0)} s, then ${EXPIRING} sessions expire at once`);

  const load = await runLoad({
    urls: workers.map((w) => w.url),
    connections: CONNECTIONS,
    cookies: [...steady, ...expiring].map(sessionCookie),
    expiring: expiring.map(sessionCookie),
    expireAt,
    repeat: PROCESSES,
    tailMs: 2000,
    maxSeconds: 300,
  });
  const tokenEndpoint = (await (await fetch(`${tokensUrl}/__stats`)).json()) as { refreshCalls: number; reused: number };
  const lock = await sumLockStats(workers.map((w) => w.url));

  const result = {
    sessions: SESSIONS,
    expiring: EXPIRING,
    processes: PROCESSES,
    connections: CONNECTIONS,
    lockClient: LOCK_CLIENT,
    seedSeconds,
    tokenCalls: tokenEndpoint.refreshCalls,
    reusedRefreshTokens: tokenEndpoint.reused,
    ...load,
    redisBytesPerSession: bytesPerSession,
    ...keyBytes,
    lock,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT MET');
  log(`token calls at the token endpoint: ${result.tokenCalls} (expected exactly ${EXPIRING}: ${verdict(result.tokenCalls === EXPIRING)}); refresh tokens reused: ${result.reusedRefreshTokens}`);
  log(`expiring sessions requested after the expiry: ${load.expiringRequested} of ${EXPIRING}`);
  log(`requests: ${load.requests} in ${load.seconds.toFixed(1)} s = ${load.throughput.toFixed(0)} req/s; failed: ${load.failed} (${verdict(load.failed === 0)})`);
  log(`p99: ${load.p99.toFixed(0)} ms overall, ${load.p99AfterExpiry.toFixed(0)} ms from the expiry on`);
  log(
    `Redis bytes per logged-in session: ${bytesPerSession.toFixed(0)} (used_memory growth); MEMORY USAGE session ${keyBytes.memoryUsageSession.toFixed(0)} + record ${keyBytes.memoryUsageRecord.toFixed(0)}; STRLEN ${keyBytes.strlenSession.toFixed(0)} + ${keyBytes.strlenRecord.toFixed(0)}`,
  );
  log(`lock: ${JSON.stringify(lock)}`);
  process.exitCode = result.tokenCalls === EXPIRING && load.failed === 0 && load.expiringRequested === EXPIRING ? 0 : 1;
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    process.exit();
  });
