import request from 'supertest';
import { redisLock } from 'express-oauth2-session';
import { expireAccessToken } from 'express-oauth2-session/testing';
import { login, sessionCookie } from '../support/login-flow';
import { useRedisFixture } from '../support/redis-app';
import { requireRedisOrSkip } from '../support/redis-server';
import { providerOptions } from '../support/test-app';
import { installTelemetry, pointsOf, type InstalledTelemetry } from '../support/telemetry';
import { startTokenGate } from '../support/token-gate';

// Issue 23 item 4: the refresh lock wait when another process holds the lock (two middleware
// instances, one Redis lock, real redis-server): the waiter's lock_wait span and histogram point say
// `reused`, the holder's `acquired`, and one refresh token is spent.
const describeRedis = requireRedisOrSkip() ? describe : describe.skip;

describeRedis('telemetry of the Redis refresh lock', () => {
  const fx = useRedisFixture();
  let otel: InstalledTelemetry;
  beforeEach(() => {
    otel = installTelemetry();
  });
  afterEach(() => otel.uninstall());

  it("should report the waiter's lock wait as reused and the holder's as acquired", async () => {
    const gate = await startTokenGate(fx.as.endpoints.token);
    try {
      const holder = fx.app(fx.client, providerOptions(fx.as, { tokenUrl: gate.url }));
      const waiterLock = redisLock(fx.client);
      let waiting!: () => void;
      const waiterWaits = new Promise<void>((resolve) => (waiting = resolve));
      const waitForRelease = waiterLock.waitForRelease.bind(waiterLock);
      waiterLock.waitForRelease = (key, maxWaitMs, options) => {
        waiting();
        return waitForRelease(key, maxWaitMs, options);
      };
      const waiter = fx.app(fx.client, providerOptions(fx.as), { lock: waiterLock });

      const agent = request.agent(holder.app);
      const cookie = sessionCookie(await login(agent));
      const { sid } = (await agent.get('/sid').expect(200)).body as { sid: string };
      await expireAccessToken(holder.store, sid);

      const held = gate.hold();
      const holderCall = agent.get('/me').then((r) => r.status);
      await held.arrived(1); // the holder has the lock, and the provider has answered its refresh
      const waiterCall = request(waiter.app)
        .get('/me')
        .set('Cookie', cookie)
        .then((r) => r.status);
      await waiterWaits;
      held.release();
      expect(await Promise.all([holderCall, waiterCall])).toEqual([200, 200]);

      expect(gate.exchanges.filter((e) => e.grantType === 'refresh_token').length).toBe(1);
      const waits = otel.spansNamed('oauth2.refresh.lock_wait').map((s) => s.attributes['oauth2.lock.outcome']);
      expect(waits.sort()).toEqual(['acquired', 'reused']);
      const refreshes = otel.spansNamed('oauth2.refresh').map((s) => s.attributes['oauth2.refresh.outcome']);
      expect(refreshes.sort()).toEqual(['refreshed', 'reused']);
      const histogram = pointsOf(await otel.points('oauth2.refresh.lock_wait.duration')).map((p) => [p.attributes['oauth2.lock.outcome'], (p.value as { count: number }).count]);
      expect(histogram.sort()).toEqual([
        ['acquired', 1],
        ['reused', 1],
      ]);
      expect(pointsOf(await otel.points('oauth2.refreshes')).map((p) => [p.attributes['oauth2.refresh.outcome'], p.value])).toEqual([
        ['refreshed', 1],
        ['reused', 1],
      ]);
    } finally {
      await gate.close();
    }
  });
});
