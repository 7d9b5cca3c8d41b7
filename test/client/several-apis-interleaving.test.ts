import request from 'supertest';
import { login } from '../support/login-flow';
import { startResourceServer, type ResourceServer } from '../support/resource-server';
import { startSeveralApis, type SeveralApis } from '../support/several-apis';
import { createTestApp, providerOptions } from '../support/test-app';

// A per-API grant writes a newer token record that keeps the login's access token. A request that
// read the record before it, then sees the login's token refused (401 invalid_token), must still
// refresh the login's token, not take the newer record for "another worker refreshed".
let env: SeveralApis;
let rs: ResourceServer;
beforeAll(async () => {
  env = await startSeveralApis();
  rs = await startResourceServer({ issuer: env.as.issuer });
});
afterAll(async () => {
  await rs.stop();
  await env.stop();
});

it('should refresh the login token after a 401 even when a per-API grant wrote the record meanwhile', async () => {
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  let reached: () => void = () => {};
  const atGate = new Promise<void>((r) => (reached = r));
  const { app } = createTestApp({
    oauth: { ...providerOptions(env.as, { apiBaseUrl: rs.url }), apis: env.apis },
    routes: (a) => {
      a.get('/slow-me', async (req, res, next) => {
        try {
          await req.oauth.getToken(); // this request now holds the record as it was
          reached();
          await gate;
          const r = await req.oauth.get('/api/me');
          res.status(r.status).json(await r.json());
        } catch (err) {
          next(err);
        }
      });
      a.get('/orders', async (req, res, next) => {
        try {
          res.status((await req.oauth.api('orders').get('/x')).status).end();
        } catch (err) {
          next(err);
        }
      });
    },
  });
  const agent = request.agent(app);
  await login(agent);
  const slow = agent.get('/slow-me').then((r) => r);
  await atGate;
  await agent.get('/orders').expect(200); // the per-API grant: a newer record, same login token
  await env.as.clearRequests();
  rs.seen.length = 0;
  rs.rejectNext(1);
  release();
  const res = await slow;
  expect(res.status).toBe(200);
  expect(res.body.sub).toBe('alice');
  expect((await env.as.tokenRequests()).map((r) => [r.grantType, r.status])).toEqual([['refresh_token', 200]]);
  expect(rs.seen).toHaveLength(2);
  expect(rs.seen[1]).not.toBe(rs.seen[0]);
});
