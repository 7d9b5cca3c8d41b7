import request from 'supertest';
import type { Express } from 'express';
import { expireAccessToken } from 'express-oauth2-session/testing';
import { login } from '../support/login-flow';
import { bearerOf, jwtPayload, startSeveralApis, type SeveralApis } from '../support/several-apis';
import { createTestApp, providerOptions } from '../support/test-app';

// RFC 8693 token exchange (issue 21 item 3) against the test provider's token-exchange grant.
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

let env: SeveralApis;
beforeAll(async () => {
  env = await startSeveralApis({ tokenExchange: true });
});
afterAll(() => env.stop());
beforeEach(async () => {
  await env.as.clearRequests();
  env.servers.partner.seen.length = 0;
});

function routes(app: Express): void {
  app.get('/partner', async (req, res, next) => {
    try {
      const r = await req.oauth.api('partner').get('/items');
      res.status(r.status).json(await r.json());
    } catch (err) {
      next(err);
    }
  });
  app.get('/exchange', async (req, res, next) => {
    try {
      const n = Number(req.query.n ?? 1);
      const tokens = await Promise.all(Array.from({ length: n }, () => req.oauth.exchange({ audience: env.apis.billing.resource, scope: 'billing:read' })));
      res.json({
        distinct: new Set(tokens.map((t) => t.accessToken)).size,
        aud: jwtPayload(tokens[0]!.accessToken).aud,
        sub: jwtPayload(tokens[0]!.accessToken).sub,
        scope: tokens[0]!.scope,
        frozen: Object.isFrozen(tokens[0]),
      });
    } catch (err) {
      next(err);
    }
  });
  app.get('/bad-exchange', async (req, res) => {
    try {
      await req.oauth.exchange({ audience: 42 } as never);
      res.json({ ok: true });
    } catch (err) {
      res.status(500).json({ name: (err as Error).name, message: (err as Error).message });
    }
  });
}

function setup(overrides: Record<string, unknown> = {}) {
  const apis = { partner: { url: env.apis.partner.url, exchange: { audience: env.apis.partner.resource, scope: 'partner:read' } } };
  const { app, store } = createTestApp({ oauth: { ...providerOptions(env.as, overrides), apis }, routes });
  return { app, store, agent: request.agent(app) };
}

describe('token exchange (RFC 8693)', () => {
  it('should give an API configured with `exchange` a token exchanged for the login token, once, then from the record', async () => {
    const { agent } = setup();
    await login(agent);
    await env.as.clearRequests();
    const first = await agent.get('/partner').expect(200);
    expect(first.body).toEqual({ path: '/partner/items', method: 'GET', aud: env.apis.partner.resource, sub: 'alice', scope: 'partner:read' });
    await agent.get('/partner').expect(200);
    expect((await env.as.tokenRequests()).map((r) => [r.grantType, r.authMethod, r.status])).toEqual([[TOKEN_EXCHANGE, 'client_secret_basic', 200]]);
    const seen = env.servers.partner.seen.map(bearerOf);
    expect(seen).toHaveLength(2);
    expect(seen[1]).toBe(seen[0]);
  });

  it('should exchange from code with req.oauth.exchange(), concurrent calls sharing one request', async () => {
    const { agent } = setup();
    await login(agent);
    await env.as.clearRequests();
    const res = await agent.get('/exchange?n=5').expect(200);
    expect(res.body).toEqual({ distinct: 1, aud: env.apis.billing.resource, sub: 'alice', scope: 'billing:read', frozen: true });
    await agent.get('/exchange').expect(200);
    expect((await env.as.tokenRequests()).map((r) => r.grantType)).toEqual([TOKEN_EXCHANGE]);
  });

  it('should authenticate the exchange as every other grant (client_secret_post)', async () => {
    const { agent } = setup({ clientId: 'rp-post' });
    await login(agent);
    await env.as.clearRequests();
    await agent.get('/exchange').expect(200);
    expect((await env.as.tokenRequests()).map((r) => [r.grantType, r.clientId, r.authMethod, r.status])).toEqual([[TOKEN_EXCHANGE, 'rp-post', 'client_secret_post', 200]]);
  });

  it('should refresh an expired login token before using it as the subject token', async () => {
    const { agent, store } = setup();
    await login(agent);
    const sid = (await agent.get('/session')).body.sessionId as string;
    await expireAccessToken(store, sid);
    await env.as.clearRequests();
    await agent.get('/partner').expect(200);
    expect((await env.as.tokenRequests()).map((r) => [r.grantType, r.status])).toEqual([
      ['refresh_token', 200],
      [TOKEN_EXCHANGE, 200],
    ]);
  });

  it('should refuse a malformed exchange request with a TypeError before any token request', async () => {
    const { agent } = setup();
    await login(agent);
    await env.as.clearRequests();
    const res = await agent.get('/bad-exchange').expect(500);
    expect(res.body).toEqual({ name: 'TypeError', message: 'req.oauth.exchange: `audience` must be a non-empty string' });
    expect(await env.as.tokenRequests()).toEqual([]);
  });
});
