// Refresh storms (1 process; 4 processes + Redis) and memory per logged-in session.
// Run by bench/run.mjs: `node --expose-gc --import tsx bench/extras.ts [--quick]`; prints Markdown.
import { fork } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import express from 'express';
import session from 'express-session';
import { oauthMiddleware } from 'express-oauth2-session';
import { authorizeWithoutBrowser, expireAccessToken, startTestProvider } from 'express-oauth2-session/testing';
import { recordCookie, recordKey, writeRecord } from '../lib/token-store';
import { connectRedis, createRedisApp } from '../test/support/redis-app';
import { redisServerPath, startRedisServer } from '../test/support/redis-server';

const CONCURRENCY = 200;

async function listen(app: express.Express): Promise<string> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function get(url: string, cookie?: string) {
  const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  await res.arrayBuffer();
  return { status: res.status, location: res.headers.get('location'), cookie: res.headers.getSetCookie().find((c) => c.startsWith('connect.sid='))?.split(';')[0] };
}

async function realLogin(url: string): Promise<string> {
  const start = await get(`${url}/login`);
  const { callbackUrl } = await authorizeWithoutBrowser(start.location as string);
  const done = await get(callbackUrl.replace(/^http:\/\/[^/]+/, url), start.cookie);
  if (done.status !== 303 || !done.cookie) throw new Error(`login failed: ${done.status}`);
  return done.cookie;
}

/** 200 concurrent requests: failures and p99 latency in ms. */
async function burst(urls: string[], cookie: string) {
  const times = await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, i) => {
      const t0 = performance.now();
      const res = await fetch(urls[i % urls.length] as string, { headers: { cookie } });
      await res.arrayBuffer();
      return { ms: performance.now() - t0, ok: res.status === 200 };
    }),
  );
  const sorted = times.map((t) => t.ms).sort((a, b) => a - b);
  return { failed: times.filter((t) => !t.ok).length, p99: sorted[Math.floor(sorted.length * 0.99)] as number };
}

/** The median p99 of three bursts (the load runs in this process too, so single bursts are noisy). */
async function medianBurst(urls: string[], cookie: string) {
  const runs = [await burst(urls, cookie), await burst(urls, cookie), await burst(urls, cookie)];
  runs.sort((a, b) => a.p99 - b.p99);
  return runs[1] as { failed: number; p99: number };
}

async function stormOneProcess(): Promise<string> {
  const api = express().get('/data', (_req, res) => res.json({ ok: true }));
  const apiUrl = await listen(api);
  const app = express();
  const store = new session.MemoryStore();
  app.use(session({ store, secret: 's', resave: false, saveUninitialized: false }));
  const url = await listen(app);
  const provider = await startTestProvider({ redirectUris: [`${url}/callback`], accessTokenTTL: 3600 });
  app.use(oauthMiddleware(provider.providerOptions({ redirectUri: `${url}/callback`, apiBaseUrl: apiUrl })));
  app.get('/api', async (req, res) => res.json(await (await req.oauth.get('/data')).json()));
  app.get('/sid', (req, res) => res.json({ sid: req.sessionID }));
  try {
    const cookie = await realLogin(url);
    const sid = ((await (await fetch(`${url}/sid`, { headers: { cookie } })).json()) as { sid: string }).sid;
    await burst([`${url}/api`], cookie); // warm
    const valid = await medianBurst([`${url}/api`], cookie);
    // Token endpoint latency as seen by one request: a refreshing request minus a plain one.
    const t0 = performance.now();
    await get(`${url}/api`, cookie);
    const plain = performance.now() - t0;
    await expireAccessToken(store, sid);
    const t1 = performance.now();
    await get(`${url}/api`, cookie);
    const refreshMs = performance.now() - t1 - plain;
    await provider.clearRequests();
    await expireAccessToken(store, sid);
    const storm = await burst([`${url}/api`], cookie);
    const refreshes = (await provider.tokenRequests('refresh_token')).length;
    return `| 1 process, MemoryStore | ${refreshes} | ${storm.failed} | ${valid.p99.toFixed(1)} | ${storm.p99.toFixed(1)} | ${(storm.p99 - valid.p99).toFixed(1)} | ${refreshMs.toFixed(1)} |`;
  } finally {
    await provider.stop();
  }
}

async function stormFourProcesses(): Promise<string> {
  if (!redisServerPath()) return '| 4 processes + Redis | not run: redis-server is not installed | | | | | |';
  const redis = await startRedisServer();
  const client = await connectRedis(redis.url);
  const seedApp = express();
  const seedUrl = await listen(seedApp);
  const provider = await startTestProvider({ redirectUris: [`${seedUrl}/callback`], accessTokenTTL: 3600 });
  const oauth = provider.providerOptions({ redirectUri: `${seedUrl}/callback` });
  const seeded = createRedisApp(client, oauth);
  seedApp.use(seeded.app);
  const workers = await Promise.all(
    Array.from({ length: 4 }, () => {
      const child = fork(path.join(__dirname, '../test/support/redis-app-worker.ts'), [JSON.stringify({ redisUrl: redis.url, oauth })], { execArgv: ['--import', 'tsx'], stdio: ['pipe', 'pipe', 'inherit', 'ipc'] });
      return new Promise<{ url: string; kill: () => void }>((resolve) => {
        let out = '';
        child.stdout?.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /WORKER_READY (\d+)/.exec(out);
          if (m) resolve({ url: `http://127.0.0.1:${m[1]}`, kill: () => child.kill() });
        });
      });
    }),
  );
  try {
    const cookie = await realLogin(seedUrl);
    const sid = ((await (await fetch(`${seedUrl}/sid`, { headers: { cookie } })).json()) as { sid: string }).sid;
    const urls = workers.map((w) => `${w.url}/me`);
    await burst(urls, cookie);
    const valid = await medianBurst(urls, cookie);
    await provider.clearRequests();
    await expireAccessToken(seeded.store, sid);
    const storm = await burst(urls, cookie);
    const refreshes = (await provider.tokenRequests('refresh_token')).length;
    return `| 4 processes + Redis (connect-redis, redisLock) | ${refreshes} | ${storm.failed} | ${valid.p99.toFixed(1)} | ${storm.p99.toFixed(1)} | ${(storm.p99 - valid.p99).toFixed(1)} | (see row above) |`;
  } finally {
    workers.forEach((w) => w.kill());
    await client.quit();
    await redis.stop();
    await provider.stop();
  }
}

const alive: unknown[] = [];

function heap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

async function memory(): Promise<string> {
  const N = 10_000;
  const set = (store: session.MemoryStore, id: string, data: object) => new Promise<void>((resolve) => store.set(id, data as never, () => resolve()));
  const cookie = { originalMaxAge: 86_400_000, expires: new Date(Date.now() + 86_400_000), httpOnly: true, path: '/', sameSite: 'lax' };
  const token = () => randomBytes(32).toString('base64url');
  // The shapes a login writes: a session with the login marker, and the token record
  // (opaque 43-char access and refresh tokens as oidc-provider issues them, a ~850-byte ID token).
  const before = heap();
  const store = new session.MemoryStore();
  alive.push(store); // V8 frees what is never read again, even mid-function
  for (let i = 0; i < N; i += 1) {
    const sid = randomBytes(24).toString('base64url');
    await set(store, sid, { cookie, oauth: { tx: {}, p: { default: { at: Date.now(), sub: `user-${i}`, exp: Date.now() + 90_000_000 } } } });
    const tokens = { accessToken: token(), tokenType: 'bearer', refreshToken: token(), expiresAt: Date.now() + 3_600_000, scope: 'openid profile email', idToken: randomBytes(640).toString('base64url') };
    await writeRecord(store, recordKey(sid, 'default'), { v: 1, tokens }, recordCookie(cookie.expires.getTime(), cookie.originalMaxAge), 1000);
  }
  const withTokens = (heap() - before) / N;
  const beforeBare = heap();
  const bare = new session.MemoryStore();
  alive.push(bare);
  for (let i = 0; i < N; i += 1) await set(bare, randomBytes(24).toString('base64url'), { cookie, user: { sub: `user-${i}` } });
  const bareBytes = (heap() - beforeBare) / N;
  return [
    '### 5. Memory per logged-in session (MemoryStore, 10 000 sessions, heap after GC)',
    '',
    '| what | bytes per session | target |',
    '|---|---|---|',
    `| express-oauth2-session: session (login marker) + token record, with an ID token | ${withTokens.toFixed(0)} | ≤ 2048 |`,
    `| bare express-session with \`{ user: { sub } }\` | ${bareBytes.toFixed(0)} | baseline |`,
  ].join('\n');
}

async function main(): Promise<void> {
  const mem = await memory(); // first: later phases leave garbage that would be freed mid-measurement
  const rows = [await stormOneProcess(), await stormFourProcesses()];
  console.log(
    [
      `### 4. Refresh storm: ${CONCURRENCY} concurrent requests on one session whose access token has expired`,
      '',
      '| setup | refreshes at the AS | failed requests | p99 with valid token (ms) | p99 in the storm (ms) | added p99 (ms) | one refresh, seen by a request (ms) |',
      '|---|---|---|---|---|---|---|',
      ...rows,
      '',
      mem,
    ].join('\n'),
  );
  process.exit(0);
}

void main();
