import request from 'supertest';
import type { Express } from 'express';
import { isOAuthError } from 'express-oauth2-session';
import { authorize, login, pathOf } from '../support/login-flow';
import { API_NAMES, bearerOf, expireApiTokens, jwtPayload, startSeveralApis, type SeveralApis } from '../support/several-apis';
import { createTestApp, providerOptions } from '../support/test-app';

let env: SeveralApis;
beforeAll(async () => {
  env = await startSeveralApis();
});
afterAll(() => env.stop());
beforeEach(async () => {
  await env.as.clearRequests();
  for (const name of API_NAMES) env.servers[name].seen.length = 0;
});

function apiRoutes(app: Express): void {
  app.get('/call/:api', async (req, res, next) => {
    try {
      const r = await req.oauth.api(String(req.params.api)).get('/items');
      res.status(r.status).json(await r.json());
    } catch (err) {
      next(err);
    }
  });
  app.get('/absolute', async (req, res, next) => {
    try {
      const r = await req.oauth.get(String(req.query.url));
      res.status(r.status).json(await r.json());
    } catch (err) {
      if (isOAuthError(err)) return res.status(599).json({ code: err.code });
      next(err);
    }
  });
  app.get('/token/:api', async (req, res, next) => {
    try {
      const token = await req.oauth.getToken({ api: String(req.params.api) });
      res.json({ aud: jwtPayload(token!.accessToken).aud, scope: token!.scope ?? null });
    } catch (err) {
      next(err);
    }
  });
  app.post('/bye', async (req, res, next) => {
    try {
      await req.oauth.logout();
      res.json({ ok: true });
    } catch (err) {
      next(err);
    }
  });
}

function setup() {
  const { app, store, oauth } = createTestApp({ oauth: { ...providerOptions(env.as), apis: env.apis }, routes: apiRoutes });
  return { app, store, oauth, agent: request.agent(app) };
}

async function sessionIdOf(agent: ReturnType<typeof request.agent>): Promise<string> {
  return (await agent.get('/session')).body.sessionId as string;
}

describe('several APIs, one login (RFC 8707)', () => {
  it('should ask for every configured resource and the APIs scopes in the authorization request', async () => {
    const { agent } = setup();
    const { authorizationUrl } = await authorize(agent);
    const url = new URL(authorizationUrl);
    expect(url.searchParams.getAll('resource')).toEqual(API_NAMES.map((n) => env.apis[n].resource));
    expect(url.searchParams.get('scope')).toBe('openid profile email orders:read billing:read partner:read');
  });

  it('should call three APIs with three audience-restricted tokens, one refresh grant each, then from the record', async () => {
    const { agent } = setup();
    await login(agent);
    await env.as.clearRequests();
    for (const name of API_NAMES) {
      const res = await agent.get(`/call/${name}`).expect(200);
      expect(res.body).toEqual({ path: `/${name}/items`, method: 'GET', aud: env.apis[name].resource, sub: 'alice', scope: `${name}:read` });
    }
    const grants = await env.as.tokenRequests();
    expect(grants.map((r) => [r.grantType, r.status])).toEqual([
      ['refresh_token', 200],
      ['refresh_token', 200],
      ['refresh_token', 200],
    ]);
    // Warm: the tokens come from the login's record, no token request.
    for (const name of API_NAMES) await agent.get(`/call/${name}`).expect(200);
    expect(await env.as.tokenRequests()).toHaveLength(3);
    const tokens = API_NAMES.map((n) => env.servers[n].seen.map(bearerOf));
    for (const [i, name] of API_NAMES.entries()) {
      expect(tokens[i]).toHaveLength(2);
      expect(tokens[i]![0]).toBe(tokens[i]![1]);
      expect(jwtPayload(tokens[i]![0]!).aud).toBe(env.apis[name].resource);
    }
    expect(new Set(tokens.map((t) => t[0])).size).toBe(3);
  });

  it('should never send one API the token of another, nor the login token (every Authorization each API saw)', async () => {
    const { agent } = setup();
    await login(agent);
    await agent.get('/call/orders').expect(200);
    await agent.get(`/absolute?url=${encodeURIComponent(`${env.apis.billing.url}/x`)}`).expect(200);
    await agent.get('/call/partner').expect(200);
    await agent.get('/call/orders').expect(200);
    for (const name of API_NAMES) {
      const seen = env.servers[name].seen;
      expect(seen.length).toBeGreaterThan(0);
      for (const header of seen) {
        expect(header.startsWith('Bearer ')).toBe(true);
        expect(jwtPayload(bearerOf(header)).aud).toBe(env.apis[name].resource);
      }
    }
  });

  it('should route an absolute URL to the API whose url is its longest prefix, and refuse any other origin with nothing sent', async () => {
    const { agent } = setup();
    await login(agent);
    const res = await agent.get(`/absolute?url=${encodeURIComponent(`${env.apis.partner.url}/deep/path?q=1`)}`).expect(200);
    expect(res.body.aud).toBe(env.apis.partner.resource);
    expect(res.body.path).toBe('/partner/deep/path?q=1');
    const refused = await agent.get(`/absolute?url=${encodeURIComponent('http://127.0.0.1:9/elsewhere')}`).expect(599);
    expect(refused.body).toEqual({ code: 'OAUTH_ORIGIN_NOT_ALLOWED' });
    // api(name) with an absolute URL of another origin: refused too, nothing sent.
    const total = API_NAMES.reduce((n, name) => n + env.servers[name].seen.length, 0);
    expect(total).toBe(1);
  });

  it('should return one API token from getToken({ api })', async () => {
    const { agent } = setup();
    await login(agent);
    const res = await agent.get('/token/billing').expect(200);
    expect(res.body).toEqual({ aud: env.apis.billing.resource, scope: 'billing:read' });
  });

  it('should get a new API token when its stored one expired, and keep the others', async () => {
    const { agent, store } = setup();
    await login(agent);
    for (const name of API_NAMES) await agent.get(`/call/${name}`).expect(200);
    const first = env.servers.orders.seen.map(bearerOf);
    await expireApiTokens(store, await sessionIdOf(agent));
    await env.as.clearRequests();
    await agent.get('/call/orders').expect(200);
    expect((await env.as.tokenRequests()).map((r) => r.grantType)).toEqual(['refresh_token']);
    const second = env.servers.orders.seen.map(bearerOf);
    expect(second).toHaveLength(2);
    expect(second[1]).not.toBe(first[0]);
    expect(jwtPayload(second[1]!).aud).toBe(env.apis.orders.resource);
  });

  it('should renew an API token once when the API answers 401 invalid_token, and retry', async () => {
    const { agent } = setup();
    await login(agent);
    await agent.get('/call/billing').expect(200);
    env.servers.billing.rejectNext(1);
    await env.as.clearRequests();
    const res = await agent.get('/call/billing').expect(200);
    expect(res.body.aud).toBe(env.apis.billing.resource);
    expect((await env.as.tokenRequests()).map((r) => [r.grantType, r.status])).toEqual([['refresh_token', 200]]);
    const seen = env.servers.billing.seen.map(bearerOf);
    expect(seen).toHaveLength(3);
    expect(seen[1]).toBe(seen[0]);
    expect(seen[2]).not.toBe(seen[1]);
  });

  it('should revoke and forget the per-API tokens with the login (logout)', async () => {
    const { agent, store } = setup();
    await login(agent);
    for (const name of API_NAMES) await agent.get(`/call/${name}`).expect(200);
    const sid = await sessionIdOf(agent);
    await env.as.clearRequests();
    await agent.post('/bye').expect(200);
    const revocations = (await env.as.requests()).filter((r) => r.endpoint === '/token/revocation');
    // Refresh token and login token, then each API token. The test provider's API tokens are JWTs,
    // which oidc-provider cannot revoke (RFC 7009 §2.2 unsupported_token_type): they were still sent.
    expect(revocations.map((r) => [r.status, r.error])).toEqual([
      [200, undefined],
      [200, undefined],
      [400, 'unsupported_token_type'],
      [400, 'unsupported_token_type'],
      [400, 'unsupported_token_type'],
    ]);
    const record = await new Promise((resolve) => store.get(`${sid}:oauth:default`, (_e, v) => resolve(v)));
    expect(record).toBeUndefined();
  });

  it('should forget the per-API tokens when the user logs in again', async () => {
    const { agent, store } = setup();
    await login(agent);
    await agent.get('/call/orders').expect(200);
    await login(agent);
    const sid = await sessionIdOf(agent);
    const record = await new Promise<{ t: { p?: unknown } }>((resolve) => store.get(`${sid}:oauth:default`, (_e, v) => resolve(v as never)));
    expect(record.t.p).toBeUndefined();
    await env.as.clearRequests();
    await agent.get('/call/orders').expect(200);
    expect((await env.as.tokenRequests()).map((r) => r.grantType)).toEqual(['refresh_token']);
  });

  it('should end the login when the refresh token is rejected while getting an API token', async () => {
    const { agent, store } = setup();
    await login(agent);
    const sid = await sessionIdOf(agent);
    await env.as.failNextTokenRequest({ status: 400, body: { error: 'invalid_grant' } });
    const res = await agent.get('/call/orders').set('Accept', 'application/json');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'unauthorized', code: 'OAUTH_REAUTHENTICATION_REQUIRED' });
    const record = await new Promise((resolve) => store.get(`${sid}:oauth:default`, (_e, v) => resolve(v)));
    expect(record).toBeUndefined();
    expect(env.servers.orders.seen).toEqual([]);
  });

  it('should serialize concurrent first calls of three APIs: one grant each, no invalid_grant with a rotating refresh token', async () => {
    const { agent } = setup();
    const callback = await authorize(agent);
    await agent.get(pathOf(callback.callbackUrl)).expect(303);
    await env.as.clearRequests();
    const calls = Array.from({ length: 30 }, (_, i) => agent.get(`/call/${API_NAMES[i % 3]}`));
    const results = await Promise.all(calls);
    expect(results.map((r) => r.status)).toEqual(Array(30).fill(200));
    expect((await env.as.tokenRequests()).map((r) => [r.grantType, r.status])).toEqual([
      ['refresh_token', 200],
      ['refresh_token', 200],
      ['refresh_token', 200],
    ]);
  });

  it("should get DPoP-bound per-API tokens with the login's key and send them with a proof (dpop: true)", async () => {
    const { app } = createTestApp({ oauth: { ...providerOptions(env.as, { dpop: true }), apis: env.apis }, routes: apiRoutes });
    const agent = request.agent(app);
    await login(agent);
    for (const name of ['orders', 'billing'] as const) {
      const res = await agent.get(`/call/${name}`).expect(200);
      expect(res.body.aud).toBe(env.apis[name].resource);
      const [header] = env.servers[name].seen;
      expect(header!.startsWith('DPoP ')).toBe(true);
      expect(typeof (jwtPayload(bearerOf(header!)).cnf as { jkt?: unknown }).jkt).toBe('string');
    }
    const keys = ['orders', 'billing'].map((n) => (jwtPayload(bearerOf(env.servers[n as 'orders'].seen[0]!)).cnf as { jkt: string }).jkt);
    expect(keys[0]).toBe(keys[1]);
  });
});
