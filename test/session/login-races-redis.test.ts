import request from 'supertest';
import { authorize, pathOf, sessionCookie } from '../support/login-flow';
import { useRedisFixture } from '../support/redis-app';
import { requireRedisOrSkip } from '../support/redis-server';
import { providerOptions } from '../support/test-app';

// Two app instances that share nothing but Redis (connect-redis store + redisLock), as two
// processes would: a callback delivered to both at once is redeemed once (issue 11).
const describeRedis = requireRedisOrSkip() ? describe : describe.skip;

describeRedis('login state across processes sharing Redis', () => {
  const fx = useRedisFixture();

  it('should redeem the code once when the same callback reaches two processes at once: one 303, one 400, one login', async () => {
    const one = fx.app(fx.client, providerOptions(fx.as));
    const two = fx.app(fx.client, providerOptions(fx.as));
    const agent = request.agent(one.app);
    const start = await agent.get('/login').expect(302);
    const cookie = sessionCookie(start);
    const { callbackUrl } = await authorize(agent);
    await fx.as.clearRequests();
    const [a, b] = await Promise.all([request(one.app).get(pathOf(callbackUrl)).set('Cookie', cookie), request(two.app).get(pathOf(callbackUrl)).set('Cookie', cookie)]);
    expect([a.status, b.status].sort()).toEqual([303, 400]);
    expect((await fx.as.tokenRequests()).map((r) => [r.grantType, r.status])).toEqual([['authorization_code', 200]]);
    const winner = a.status === 303 ? a : b;
    const sid = await request(two.app).get('/sid').set('Cookie', sessionCookie(winner));
    expect(sid.body.authenticated).toBe(true);
    expect(await fx.client.keys('sess:*:oauth:default')).toEqual([`sess:${sid.body.sid}:oauth:default`]);
  });
});
