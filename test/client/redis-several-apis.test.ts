import request from 'supertest';
import { login, sessionCookie } from '../support/login-flow';
import { connectRedis, createRedisApp, type RedisClient } from '../support/redis-app';
import { startAppWorker, type AppWorker } from '../support/redis-app-workers';
import { requireRedisOrSkip, startRedisServer, type RedisServer } from '../support/redis-server';
import { API_NAMES, bearerOf, expireApiTokens, jwtPayload, startSeveralApis, type SeveralApis } from '../support/several-apis';
import { providerOptions } from '../support/test-app';

// Issue 21: every grant that spends the login's rotating refresh token holds the one per-login
// lock, across processes. 4 app processes, connect-redis + redisLock, 3 APIs, 200 requests after
// the API tokens expired: exactly one refresh grant per API, zero invalid_grant, zero failures.
const describeRedis = requireRedisOrSkip() ? describe : describe.skip;

describeRedis('several APIs with Redis, 4 processes', () => {
  let env: SeveralApis;
  let redis: RedisServer;
  let client: RedisClient;
  beforeAll(async () => {
    [env, redis] = await Promise.all([startSeveralApis(), startRedisServer()]);
    client = await connectRedis(redis.url);
  });
  afterAll(async () => {
    await client?.quit().catch(() => {});
    await redis?.stop();
    await env?.stop();
  });

  it('should make exactly one refresh grant per API for a storm of 200 requests across 3 APIs and 4 processes', async () => {
    const oauth = { ...providerOptions(env.as), apis: env.apis };
    const { app, store, lock } = createRedisApp(client, oauth);
    const workers: AppWorker[] = [];
    try {
      const agent = request.agent(app);
      const cookie = sessionCookie(await login(agent));
      const { sid } = (await agent.get('/sid').expect(200)).body as { sid: string };
      workers.push(...(await Promise.all(Array.from({ length: 4 }, () => startAppWorker(redis.url, oauth)))));
      // Warm every process on every API (module loading, connections); the first calls get the tokens.
      for (const w of workers) for (const name of API_NAMES) expect((await request(w.url).get(`/call/${name}`).set('Cookie', cookie)).status).toBe(200);
      await expireApiTokens(store, sid);
      await env.as.clearRequests();
      for (const name of API_NAMES) env.servers[name].seen.length = 0;

      const responses = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          request((workers[i % 4] as AppWorker).url)
            .get(`/call/${API_NAMES[i % 3]}`)
            .set('Cookie', cookie),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(200).fill(200));
      for (const [i, r] of responses.entries()) expect(r.body.aud).toBe(env.apis[API_NAMES[i % 3]!].resource);
      const grants = await env.as.tokenRequests();
      expect(grants.map((r) => [r.grantType, r.status, r.error])).toEqual([
        ['refresh_token', 200, undefined],
        ['refresh_token', 200, undefined],
        ['refresh_token', 200, undefined],
      ]);
      // One new token per API, and no API ever saw another's.
      for (const name of API_NAMES) {
        const tokens = new Set(env.servers[name].seen.map(bearerOf));
        expect(tokens.size).toBe(1);
        for (const t of tokens) expect(jwtPayload(t).aud).toBe(env.apis[name].resource);
      }
      const after = await Promise.all(workers.map((w) => request(w.url).get('/sid').set('Cookie', cookie)));
      expect(after.map((r) => r.body.authenticated)).toEqual([true, true, true, true]);
    } finally {
      for (const w of workers) w.child.kill();
      await lock.close();
    }
  }, 90_000);
});
