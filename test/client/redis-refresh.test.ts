import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import request from 'supertest';
import type { RedisRefreshLock } from 'express-oauth2-session';
import { expireAccessToken } from 'express-oauth2-session/testing';
import { login, sessionCookie } from '../support/login-flow';
import { useRedisFixture, type RedisAppOptions } from '../support/redis-app';
import { REDIS_CLIENT_KINDS, type RedisClientKind } from '../support/redis-clients';
import { requireRedisOrSkip } from '../support/redis-server';
import { providerOptions } from '../support/test-app';

type RedisLockStats = RedisRefreshLock['stats'];

// Issue 4: never log a user out by accident. Real redis-server, connect-redis, a rotating AS
// (reusing a rotated refresh token revokes the whole grant), several app processes.
const describeRedis = requireRedisOrSkip() ? describe : describe.skip;

interface Worker {
  url: string;
  child: ChildProcess;
}

function startWorker(redisUrl: string, oauth: object, lockClient: RedisClientKind): Promise<Worker> {
  const script = path.join(__dirname, '../support/redis-app-worker.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify({ redisUrl, oauth, lockClient })], {
    cwd: path.join(__dirname, '../..'),
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /WORKER_READY (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: `http://127.0.0.1:${m[1]}`, child });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`worker exited (${code}):\n${out}`)));
  });
}

describeRedis('refresh with Redis (store + lock)', () => {
  const fx = useRedisFixture();
  beforeEach(() => fx.as.clearRequests());

  async function loggedIn(options: RedisAppOptions = {}) {
    const { app, store, lock } = fx.app(fx.client, providerOptions(fx.as), options);
    const agent = request.agent(app);
    const cookie = sessionCookie(await login(agent)); // the signed session cookie, for other processes
    const { sid } = (await agent.get('/sid').expect(200)).body as { sid: string };
    await fx.as.clearRequests();
    return { app, store, lock, agent, sid, cookie };
  }

  it('should make exactly 1 refresh for 200 concurrent calls of one expired session (one process)', async () => {
    const { agent, store, sid } = await loggedIn();
    await expireAccessToken(store, sid);
    const responses = await Promise.all(Array.from({ length: 200 }, () => agent.get('/me')));
    expect(responses.map((r) => r.status)).toEqual(Array(200).fill(200));
    expect(new Set(responses.map((r) => r.body.sub))).toEqual(new Set(['alice']));
    expect((await fx.as.tokenRequests()).map((r) => [r.grantType, r.status])).toEqual([['refresh_token', 200]]);
  });

  it.each(REDIS_CLIENT_KINDS)(
    'should make exactly 1 refresh across 4 app processes sharing Redis (lock on %s), with 0 failed requests and 0 logouts',
    async (lockClient) => {
      const { store, sid, cookie } = await loggedIn();
      const workers = await Promise.all(Array.from({ length: 4 }, () => startWorker(fx.redis.url, providerOptions(fx.as), lockClient)));
      try {
        // Warm every process (module loading, JIT, connections) so they really race on the refresh.
        for (const w of workers) expect((await request(w.url).get('/me').set('Cookie', cookie)).status).toBe(200);
        await expireAccessToken(store, sid);
        const responses = await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            request((workers[i % 4] as Worker).url)
              .get('/me')
              .set('Cookie', cookie),
          ),
        );
        expect(responses.map((r) => r.status)).toEqual(Array(200).fill(200));
        expect(responses.every((r) => r.body.sub === 'alice')).toBe(true);
        expect((await fx.as.tokenRequests()).map((r) => [r.grantType, r.status])).toEqual([['refresh_token', 200]]);
        const after = await Promise.all(workers.map((w) => request(w.url).get('/sid').set('Cookie', cookie)));
        expect(after.map((r) => r.body.authenticated)).toEqual([true, true, true, true]);
        // Which way each waiter woke (release message or fallback check) depends on scheduling, not
        // on correctness: `npm run bench:wakeup` measures it. Here only: no waiter gave up.
        const stats = await Promise.all(workers.map(async (w) => (await request(w.url).get('/__lock-stats')).body as RedisLockStats));
        expect(stats.map((s) => s.timedOut)).toEqual([0, 0, 0, 0]);
      } finally {
        for (const w of workers) w.child.kill();
      }
    },
    60_000,
  );

  it('should not let a request that loaded the session before a refresh write the old refresh token back', async () => {
    let releaseSlow: () => void = () => {};
    const gate = new Promise<void>((r) => (releaseSlow = r));
    const { app, store } = fx.app(fx.client, providerOptions(fx.as), {
      extraRoutes: (a) => {
        a.get('/slow', async (req, res) => {
          await gate; // the session was loaded before the refresh below
          req.session.cart = ['book'];
          res.json({ ok: true });
        });
      },
    });
    const agent = request.agent(app);
    await login(agent);
    const { sid } = (await agent.get('/sid')).body as { sid: string };
    await expireAccessToken(store, sid);
    await fx.as.clearRequests();

    const slow = agent.get('/slow').then((r) => r); // starts and waits at the gate
    await new Promise((r) => setTimeout(r, 100));
    await agent.get('/me').expect(200); // refreshes: the rotated refresh token is stored
    releaseSlow();
    expect((await slow).body).toEqual({ ok: true }); // the stale session copy is saved now

    await expireAccessToken(store, sid);
    const me = await agent.get('/me').expect(200); // needs the ROTATED refresh token
    expect(me.body.sub).toBe('alice');
    expect((await fx.as.tokenRequests()).map((r) => [r.grantType, r.status, r.error])).toEqual([
      ['refresh_token', 200, undefined],
      ['refresh_token', 200, undefined],
    ]);
  });

  it('should wait out a lock whose holder died, then refresh once', async () => {
    const { agent, store, sid, lock } = await loggedIn();
    await expireAccessToken(store, sid);
    const lockedAt = Date.now(); // before the SET: the lock expires at lockedAt + 600 or later
    await fx.client.set(`oauth-lock:${sid}:oauth:default`, 'holder-that-crashed', { PX: 600 });
    const res = await agent.get('/me').expect(200);
    expect(res.body.sub).toBe('alice');
    // No release message can come: the wait ended by a check that found the lock gone (how many
    // checks that took depends on scheduling: `npm run bench:wakeup` measures it), and the one refresh
    // came only after the dead holder's lock expired.
    const { wokenByMessage, wokenByFallback, foundFree, timedOut } = lock.stats;
    expect({ wokenByMessage, timedOut, endedByACheck: wokenByFallback + foundFree }).toEqual({ wokenByMessage: 0, timedOut: 0, endedByACheck: 1 });
    const tokenRequests = await fx.as.tokenRequests();
    expect(tokenRequests.map((r) => [r.grantType, r.status])).toEqual([['refresh_token', 200]]);
    expect(Date.parse((tokenRequests[0] as unknown as { at: string }).at)).toBeGreaterThanOrEqual(lockedAt + 600 - 2); // ms rounding of the two clocks
  });

  it('should answer 503 (not hang) when Redis is killed', async () => {
    const { agent } = await loggedIn({ storeTimeoutMs: 1000 });
    await fx.redis.kill();
    try {
      const res = await agent.get('/me').set('Accept', 'application/json');
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('OAUTH_SESSION_UNAVAILABLE');
    } finally {
      await fx.redis.restart();
      await new Promise((r) => setTimeout(r, 300)); // node-redis reconnects
    }
    // This redis-server keeps no data across restarts: the session is gone, so the user is anonymous, not broken.
    const after = await agent.get('/sid').expect(200);
    expect(after.body.authenticated).toBe(false);
  });

  it('should answer 503 while Redis hangs, and keep the login once it answers again', async () => {
    const { agent } = await loggedIn({ storeTimeoutMs: 1000 });
    fx.redis.pause();
    try {
      const res = await agent.get('/me').set('Accept', 'application/json');
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('OAUTH_SESSION_UNAVAILABLE');
    } finally {
      fx.redis.resume();
    }
    await new Promise((r) => setTimeout(r, 200));
    expect((await agent.get('/me').expect(200)).body.sub).toBe('alice');
    expect(await fx.as.tokenRequests()).toEqual([]);
  });
});

declare module 'express-session' {
  interface SessionData {
    cart?: string[];
  }
}
