import request from 'supertest';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { authorize, pathOf, sessionCookie } from '../support/login-flow';
import { connectRedis, createRedisApp, type RedisClient } from '../support/redis-app';
import { requireRedisOrSkip, startRedisServer, type RedisServer } from '../support/redis-server';
import { providerOptions, REDIRECT_URI } from '../support/test-app';

// Two app instances that share nothing but Redis (connect-redis store + redisLock), as two
// processes would: a callback delivered to both at once is redeemed once (issue 11).
const describeRedis = requireRedisOrSkip() ? describe : describe.skip;

describeRedis('login state across processes sharing Redis', () => {
  let as: TestAuthorizationServer;
  let redis: RedisServer;
  let client: RedisClient;
  const apps: ReturnType<typeof createRedisApp>[] = [];
  beforeAll(async () => {
    [as, redis] = await Promise.all([startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 }), startRedisServer()]);
    client = await connectRedis(redis.url);
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.lock.close()));
    await client?.quit().catch(() => {});
    await redis?.stop();
    await as?.stop();
  });

  it('should redeem the code once when the same callback reaches two processes at once: one 303, one 400, one login', async () => {
    const one = createRedisApp(client, providerOptions(as));
    const two = createRedisApp(client, providerOptions(as));
    apps.push(one, two);
    const agent = request.agent(one.app);
    const start = await agent.get('/login').expect(302);
    const cookie = sessionCookie(start);
    const { callbackUrl } = await authorize(agent);
    await as.clearRequests();
    const [a, b] = await Promise.all([request(one.app).get(pathOf(callbackUrl)).set('Cookie', cookie), request(two.app).get(pathOf(callbackUrl)).set('Cookie', cookie)]);
    expect([a.status, b.status].sort()).toEqual([303, 400]);
    expect((await as.tokenRequests()).map((r) => [r.grantType, r.status])).toEqual([['authorization_code', 200]]);
    const winner = a.status === 303 ? a : b;
    const sid = await request(two.app).get('/sid').set('Cookie', sessionCookie(winner));
    expect(sid.body.authenticated).toBe(true);
    expect(await client.keys('sess:*:oauth:default')).toEqual([`sess:${sid.body.sid}:oauth:default`]);
  });
});
