// Memory per logged-in session, and refresh storms (1 process; 4 processes + Redis).
// Run by bench/run.mjs: `node --expose-gc --import tsx bench/extras.ts [4,5]`; prints one JSON line.
// BENCH_STORM_ROUNDS (3) storms per setup; BENCH_LOCK_CLIENTS (node-redis,ioredis) for the Redis setup.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import express from 'express';
import session from 'express-session';
import { oauthMiddleware, type OAuthMiddlewareOptions } from 'express-oauth2-session';
import { startTestProvider, type TestProvider } from 'express-oauth2-session/testing';
import { readRecord, recordKey, writeRecord, type TokenRecord } from '../lib/session/token-record';
import { forkReady, freePort, median, realLogin, sumLockStats } from './bench-kit';
import type { RedisClientKind } from '../test/support/redis-clients';
import { redisServerPath, startRedisServer } from '../test/support/redis-server';

const only = (process.argv[2] ?? '4,5').split(',');
const CONCURRENCY = 200;
const TOKEN_DELAY_MS = 50;
const SESSIONS = 10_000;
/** Valid-burst + storm pairs per setup (BENCH_STORM_ROUNDS). */
const STORM_ROUNDS = Number(process.env.BENCH_STORM_ROUNDS ?? 3);
/** BENCH_LOCK_CLIENTS=ioredis runs the Redis storm with one library only; `polling` adds the lock before pub/sub. */
const LOCK_CLIENTS = (process.env.BENCH_LOCK_CLIENTS ?? 'node-redis,ioredis').split(',') as (RedisClientKind | 'polling')[];
const LOCK_LABELS = { 'node-redis': 'redisLock on node-redis', ioredis: 'redisLock on ioredis', polling: 'the lock before pub/sub: 25 ms polling' };

/** CONCURRENCY requests fired at once (spread over the URLs): failures and p99 latency in ms. */
async function burst(urls: string[], cookie: string) {
  const results = await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, i) => {
      const t0 = performance.now();
      const res = await fetch(urls[i % urls.length] as string, { headers: { cookie } });
      await res.arrayBuffer();
      return { ms: performance.now() - t0, ok: res.status === 200 };
    }),
  );
  const sorted = results.map((r) => r.ms).sort((a, b) => a - b);
  return { failed: results.filter((r) => !r.ok).length, p99: sorted[Math.floor(sorted.length * 0.99)] as number };
}

/**
 * Pairs of a valid-token burst and a storm (expire, burst, count token requests at the provider),
 * after warm-up bursts. The added p99 is the median of the pairs' differences, so a change of the
 * machine's load between pairs cancels out.
 */
async function storms(setup: string, workers: string[], provider: TestProvider, proxyUrl: string) {
  const cookie = await realLogin(workers[0] as string);
  const urls = workers.map((w) => `${w}/api`);
  for (let i = 0; i < 2; i += 1) await burst(urls, cookie); // warm-up
  const valid: number[] = [];
  const runs = [];
  for (let i = 0; i < STORM_ROUNDS; i += 1) {
    const validP99 = (await burst(urls, cookie)).p99;
    valid.push(validP99);
    const expired = await fetch(`${workers[0]}/__expire`, { method: 'POST', headers: { cookie } });
    if (!expired.ok) throw new Error(`expire failed: ${expired.status}`);
    await provider.clearRequests();
    await fetch(`${proxyUrl}/__stats`, { method: 'DELETE' });
    const b = await burst(urls, cookie);
    const refreshesAtAs = (await provider.tokenRequests('refresh_token')).length;
    const tokenMs = ((await (await fetch(`${proxyUrl}/__stats`)).json()) as { ms: number[] }).ms;
    runs.push({ refreshesAtAs, tokenCalls: tokenMs.length, tokenMs, failed: b.failed, p99: b.p99, validP99 });
  }
  const addedP99 = median(runs.map((r) => r.p99 - r.validP99));
  return { setup, concurrency: CONCURRENCY, storms: runs, validP99: median(valid), stormP99: median(runs.map((r) => r.p99)), addedP99, tokenLatencyMs: median(runs.flatMap((r) => r.tokenMs)) };
}

async function stormSuite(provider: TestProvider, ports: number[]) {
  const api = await forkReady('api-server.mjs', {}, false);
  const proxy = await forkReady('token-proxy.mjs', { upstream: provider.endpoints.token, delayMs: TOKEN_DELAY_MS }, false);
  const oauth = (port: number): OAuthMiddlewareOptions => provider.providerOptions({ redirectUri: `http://127.0.0.1:${port}/callback`, tokenUrl: `${proxy.url}/token`, apiBaseUrl: api.url });
  const results: object[] = [];
  try {
    const single = await forkReady('storm-worker.ts', { oauth: oauth(ports[0] as number), port: ports[0] }, true);
    results.push(await storms('1 process, MemoryStore', [single.url], provider, proxy.url).finally(single.stop));
    if (!redisServerPath()) return results;
    const redis = await startRedisServer();
    try {
      for (const lockClient of LOCK_CLIENTS) {
        const workers = await Promise.all(
          [0, 1, 2, 3].map((i) => forkReady('storm-worker.ts', { oauth: oauth(ports[1] as number), redisUrl: redis.url, lockClient, ...(i === 0 ? { port: ports[1] } : {}) }, true)),
        );
        try {
          const result = await storms(
            `4 processes + Redis (connect-redis 9, ${LOCK_LABELS[lockClient]})`,
            workers.map((w) => w.url),
            provider,
            proxy.url,
          );
          results.push({ ...result, lockStats: await sumLockStats(workers.map((w) => w.url)) });
        } finally {
          await Promise.all(workers.map((w) => w.stop()));
        }
      }
    } finally {
      await redis.stop();
    }
    return results;
  } finally {
    await proxy.stop();
    await api.stop();
  }
}

const alive: unknown[] = [];

function heap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

/** What one real login leaves in a MemoryStore: the session and the token record, for cloning. */
async function loginShape(provider: TestProvider, port: number, overrides: Partial<OAuthMiddlewareOptions>) {
  const store = new session.MemoryStore();
  const app = express();
  app.use(session({ store, secret: 's', resave: false, saveUninitialized: false, cookie: { maxAge: 86_400_000 } }));
  app.use(oauthMiddleware({ ...provider.providerOptions({ redirectUri: `http://127.0.0.1:${port}/callback` }), ...overrides } as OAuthMiddlewareOptions));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  try {
    await realLogin(`http://127.0.0.1:${port}`);
    const stored = (store as unknown as { sessions: Record<string, string> }).sessions;
    const recordId = Object.keys(stored).find((k) => k.endsWith(':oauth:default')) as string;
    const sessionId = recordId.slice(0, -':oauth:default'.length);
    const record = (await readRecord(store, recordId, 1000)) as TokenRecord;
    return { session: JSON.parse(stored[sessionId] as string), record, cookie: JSON.parse(stored[recordId] as string).cookie, recordJson: (stored[recordId] as string).length };
  } finally {
    server.close();
  }
}

/** heapUsed growth per session (after GC) for SESSIONS sessions written by `write`. */
async function bytesPerSession(write: (store: session.MemoryStore, sid: string) => Promise<void>): Promise<number> {
  const before = heap();
  const store = new session.MemoryStore();
  alive.push(store); // V8 frees what is never read again, even mid-function
  for (let i = 0; i < SESSIONS; i += 1) await write(store, randomBytes(24).toString('base64url'));
  return (heap() - before) / SESSIONS;
}

const fresh = (s: string) =>
  randomBytes(Math.ceil((s.length * 3) / 4))
    .toString('base64url')
    .slice(0, s.length);

/** A copy of a login's record with fresh token values (and nonce) of the same lengths. */
function cloneRecord(r: TokenRecord, withIdToken: boolean): TokenRecord {
  const tokens = { ...r.tokens, accessToken: fresh(r.tokens.accessToken), ...(r.tokens.refreshToken ? { refreshToken: fresh(r.tokens.refreshToken) } : {}) };
  if (!withIdToken) return { v: 1, tokens: { ...tokens, idToken: undefined } };
  const claims = r.idTokenClaims;
  return { v: 1, tokens, ...(claims ? { idTokenClaims: { ...claims, ...(claims.nonce ? { nonce: fresh(claims.nonce) } : {}) } } : {}) };
}

async function memory(provider: TestProvider, port: number) {
  // Without idpLogout (the default) the record keeps the ID token's claims; with it and an end-session endpoint, the raw ID token (id_token_hint).
  const claimsOnly = await loginShape(provider, port, { endSessionUrl: undefined });
  const rawKept = await loginShape(provider, port, { idpLogout: true });
  const set = (store: session.MemoryStore, sid: string, data: object) => new Promise<void>((resolve) => store.set(sid, data as never, () => resolve()));
  const loggedIn = (shape: typeof claimsOnly, withIdToken: boolean) => async (store: session.MemoryStore, sid: string) => {
    await set(store, sid, shape.session);
    await writeRecord(store, recordKey(sid, 'default'), cloneRecord(shape.record, withIdToken), shape.cookie, 1000);
  };
  /** The first stored format (before issue 15): `{ cookie: { expires, originalMaxAge }, oauthTokens: { v, tokens } }` with the raw ID token. */
  const firstFormat = async (store: session.MemoryStore, sid: string) => {
    await set(store, sid, rawKept.session);
    const { tokens } = cloneRecord(rawKept.record, true);
    const issuedAt = tokens.issuedAt ?? Date.now();
    await set(store, recordKey(sid, 'default'), { cookie: { ...rawKept.cookie, originalMaxAge: 86_400_000 }, oauthTokens: { v: 1, tokens: { ...tokens, tokenType: 'bearer', issuedAt } } });
  };
  const eosBytes = await bytesPerSession(loggedIn(claimsOnly, true));
  const eosRawIdTokenBytes = await bytesPerSession(loggedIn(rawKept, true));
  const eosNoIdTokenBytes = await bytesPerSession(loggedIn(claimsOnly, false));
  const firstFormatBytes = await bytesPerSession(firstFormat);
  const bareBytes = await bytesPerSession((store, sid) => set(store, sid, { cookie: claimsOnly.session.cookie, user: { sub: 'alice' } }));
  return {
    sessions: SESSIONS,
    idTokenChars: String(rawKept.record.tokens.idToken ?? '').length,
    eosBytes,
    eosRawIdTokenBytes,
    eosNoIdTokenBytes,
    firstFormatBytes,
    bareBytes,
    sessionJson: JSON.stringify(claimsOnly.session).length,
    recordJson: claimsOnly.recordJson,
    rawRecordJson: rawKept.recordJson,
  };
}

async function main(): Promise<void> {
  const ports = [await freePort(), await freePort(), await freePort()];
  const provider = await startTestProvider({ redirectUris: ports.map((p) => `http://127.0.0.1:${p}/callback`), accessTokenTTL: 3600 });
  try {
    const result: Record<string, unknown> = {};
    if (only.includes('5')) result.memory = await memory(provider, ports[2] as number); // first: later phases leave garbage
    if (only.includes('4')) result.storms = await stormSuite(provider, ports);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await provider.stop();
  }
  process.exit(0);
}

void main();
