import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { Express } from 'express';
import { CookieJar, expireAccessToken, loginWithoutBrowser } from 'express-oauth2-session/testing';
import { endSessionAtAs } from '../support/as-session-end';
import { API_NAMES, startSeveralApis, type SeveralApis } from '../support/several-apis';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Per-API tokens (RFC 8707) end with the login that got them (issue 21 item 2, SECURITY.md 21.5)
// when the provider ends it: OIDC Back-Channel Logout, and a refresh token the provider rejects.
// `orders` gets opaque tokens (the provider can revoke and introspect them), `billing` JWTs (it
// cannot: RFC 7009 unsupported_token_type), so both cases are covered.
let env: SeveralApis;
let server: http.Server;
let test: ReturnType<typeof createTestApp>;
const logoutStatuses: number[] = [];

function routes(app: Express): void {
  app.get('/call/:api', async (req, res, next) => {
    try {
      const r = await req.oauth.api(String(req.params.api)).get('/items');
      res.status(r.status).json(await r.json());
    } catch (err) {
      next(err);
    }
  });
  app.get('/token/:api', async (req, res, next) => {
    try {
      res.json({ accessToken: (await req.oauth.getToken({ api: String(req.params.api) }))!.accessToken });
    } catch (err) {
      next(err);
    }
  });
}

async function forwardLogout(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  const r = await request(test.app).post('/backchannel-logout').type('form').send(raw);
  logoutStatuses.push(r.status);
  res.writeHead(r.status).end();
}

beforeAll(async () => {
  server = http.createServer((req, res) => void forwardLogout(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const client = {
    client_id: 'rp-bcl',
    client_secret: 'rp-bcl-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [REDIRECT_URI],
    backchannel_logout_uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    backchannel_logout_session_required: true,
  };
  env = await startSeveralApis({ opaqueApis: ['orders'], extraClients: [client] });
  const apis = { orders: env.apis.orders, billing: env.apis.billing };
  test = createTestApp({ oauth: { ...providerOptions(env.as, { clientId: 'rp-bcl', clientSecret: 'rp-bcl-secret' }), apis, backchannelLogout: true }, routes });
});
afterAll(async () => {
  await env.stop();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});
beforeEach(async () => {
  await env.as.clearRequests();
  for (const name of API_NAMES) env.servers[name].seen.length = 0;
});

const storeGet = (key: string) => new Promise<unknown>((resolve, reject) => test.store.get(key, (err, value) => (err ? reject(err) : resolve(value ?? null))));
const revocations = async () => (await env.as.requests()).filter((r) => r.endpoint === '/token/revocation').map((r) => [r.status, r.error ?? null]);

/** A login (AS browser state in `jar`) that got its tokens for both APIs: the orders token (opaque), the session id. */
async function loggedInWithApiTokens(jar: CookieJar) {
  const agent = request.agent(test.app);
  expect((await loginWithoutBrowser(agent, { user: 'alice', jar })).status).toBe(303);
  const sessionId = (await agent.get('/session')).body.sessionId as string;
  const orders = (await agent.get('/token/orders').expect(200)).body.accessToken as string;
  expect((await agent.get('/call/billing').expect(200)).body.aud).toBe(env.apis.billing.resource);
  expect(await env.as.introspect(orders)).toBe(true);
  const record = (await storeGet(`${sessionId}:oauth:default`)) as { t: { p: Record<string, unknown> } };
  expect(Object.keys(record.t.p)).toHaveLength(2);
  await env.as.clearRequests();
  env.servers.billing.seen.length = 0;
  return { agent, sessionId, orders };
}

/** After the login ended: the record is gone and no API gets a token from this session. */
async function expectEnded(agent: ReturnType<typeof request.agent>, sessionId: string): Promise<void> {
  expect(await storeGet(`${sessionId}:oauth:default`)).toBeNull();
  for (const name of ['orders', 'billing']) {
    const res = await agent.get(`/call/${name}`).set('Accept', 'application/json').expect(401);
    expect(res.body).toEqual({ error: 'unauthorized', code: 'OAUTH_NOT_AUTHENTICATED' });
  }
  expect([env.servers.orders.seen, env.servers.billing.seen]).toEqual([[], []]);
  expect(await env.as.tokenRequests()).toEqual([]);
}

describe('per-API tokens when the provider ends the login', () => {
  it('should revoke and forget both API tokens on a back-channel logout, and send no token from that session again', async () => {
    const jar = new CookieJar();
    const { agent, sessionId, orders } = await loggedInWithApiTokens(jar);
    expect(await endSessionAtAs(env.as.endpoints.endSession, 'rp-bcl', jar)).toBe(303);
    expect(logoutStatuses.at(-1)).toBe(200);
    // Refresh token, login token, then each API token: the opaque one revoked, the JWT refused
    // by oidc-provider (it cannot revoke JWT access tokens), but presented all the same.
    expect(await revocations()).toEqual([
      [200, null],
      [200, null],
      [200, null],
      [400, 'unsupported_token_type'],
    ]);
    expect(await env.as.introspect(orders)).toBe(false);
    await env.as.clearRequests();
    await expectEnded(agent, sessionId);
  });

  it('should revoke and forget both API tokens when the provider rejects the refresh token', async () => {
    const { agent, sessionId, orders } = await loggedInWithApiTokens(new CookieJar());
    await expireAccessToken(test.store, sessionId);
    await env.as.failNextTokenRequest({ status: 400, body: { error: 'invalid_grant' } });
    const me = await agent.get('/me').set('Accept', 'application/json').expect(401);
    expect(me.body).toEqual({ error: 'unauthorized', code: 'OAUTH_REAUTHENTICATION_REQUIRED' });
    // Only the API tokens: the rejected refresh token is dead, the login token expired.
    expect(await revocations()).toEqual([
      [200, null],
      [400, 'unsupported_token_type'],
    ]);
    expect(await env.as.introspect(orders)).toBe(false);
    await env.as.clearRequests();
    await expectEnded(agent, sessionId);
  });
});
