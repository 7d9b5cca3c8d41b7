import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { decodeJwt } from 'jose';
import { CookieJar, endSessionWithoutBrowser, loginWithoutBrowser } from 'express-oauth2-session/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// OIDC Front-Channel Logout 1.0 against the real AS, which the test kit extends with front-channel
// logout (oidc-provider 9 has none): the app listens on an ephemeral port, registered as rp-fcl's
// frontchannel_logout_uri; logging out at the AS answers a page that frames that URI with iss and
// sid, and the kit's driver loads each frame as a browser does (no cookies). Every session of that
// AS session ends; other AS sessions stay logged in.
let as: TestAuthorizationServer;
let server: http.Server;
let origin: string;
let test: ReturnType<typeof createTestApp>;
const events: Array<{ provider: string; reason: string }> = [];
/** The `sid` of each login's ID token, by session id (from onTokens, which sees the raw ID token at login). */
const sids = new Map<string, string>();

beforeAll(async () => {
  server = http.createServer((req, res) => test.app(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = {
    client_id: 'rp-fcl',
    client_secret: 'rp-fcl-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [REDIRECT_URI],
    post_logout_redirect_uris: [`${origin}/`],
    frontchannel_logout_uri: `${origin}/frontchannel-logout`,
    frontchannel_logout_session_required: true,
  };
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300, extraClients: [client] });
  const onTokens = (e: { sessionId: string; reason: string; tokens?: { idToken?: string } }) => {
    if (e.reason === 'login' && e.tokens?.idToken) sids.set(e.sessionId, decodeJwt(e.tokens.idToken).sid as string);
  };
  test = createTestApp({ oauth: { ...providerOptions(as, { clientId: 'rp-fcl' }), frontchannelLogout: true, onTokens } });
  test.oauth.events.on('logout', (e) => events.push(e));
});
afterAll(async () => {
  await as.stop();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});
beforeEach(() => {
  events.length = 0;
});

async function loggedIn(jar: CookieJar) {
  const agent = request.agent(test.app);
  expect((await loginWithoutBrowser(agent, { user: 'alice', jar })).status).toBe(303);
  const probe = await agent.get('/session');
  expect(probe.body.authenticated).toBe(true);
  const sessionId = probe.body.sessionId as string;
  return { agent, sessionId, sid: sids.get(sessionId)! };
}

const storeGet = (key: string) => new Promise<unknown>((resolve, reject) => test.store.get(key, (err, value) => (err ? reject(err) : resolve(value ?? null))));
const logoutAtAs = (jar: CookieJar) => endSessionWithoutBrowser(`${as.endpoints.endSession}?client_id=rp-fcl`, { jar });

describe('GET /frontchannel-logout', () => {
  it('should end both sessions of one AS session and keep another AS session logged in when the AS frames it at logout', async () => {
    const browser = new CookieJar();
    const first = await loggedIn(browser);
    const second = await loggedIn(browser);
    const elsewhere = await loggedIn(new CookieJar());
    expect(first.sid).toMatch(/^[\w-]{10,}$/);
    expect([second.sid === first.sid, elsewhere.sid === first.sid]).toEqual([true, false]);

    const { frontchannelLogout, redirectUrl } = await logoutAtAs(browser);

    const frame = new URL(`${origin}/frontchannel-logout`);
    frame.searchParams.set('iss', as.issuer);
    frame.searchParams.set('sid', first.sid);
    expect(frontchannelLogout).toEqual([{ url: frame.toString(), status: 200 }]);
    expect(redirectUrl).toBe(`${as.issuer}/session/end/success`);
    for (const { agent, sessionId } of [first, second]) {
      expect((await agent.get('/session').expect(200)).body).toEqual({ authenticated: false, user: null, sessionId: expect.any(String) });
      expect([await storeGet(sessionId), await storeGet(`${sessionId}:oauth:default`)]).toEqual([null, null]);
    }
    expect((await elsewhere.agent.get('/session')).body).toMatchObject({ authenticated: true, sessionId: elsewhere.sessionId });
    expect(events).toEqual([
      { provider: 'default', reason: 'frontchannel' },
      { provider: 'default', reason: 'frontchannel' },
    ]);
  });

  it('should answer a no-store page that only the provider may frame (frame-ancestors, no X-Frame-Options even when the app set one)', async () => {
    const { sid } = await loggedIn(new CookieJar());
    const helmeted = express();
    helmeted.use((_req, res, next) => {
      res.setHeader('X-Frame-Options', 'SAMEORIGIN');
      next();
    });
    helmeted.use(test.app);
    const res = await request(helmeted)
      .get(`/frontchannel-logout?iss=${encodeURIComponent(as.issuer)}&sid=${encodeURIComponent(sid)}`)
      .expect(200);
    expect([res.headers['cache-control'], res.headers['content-security-policy'], res.headers['x-frame-options'], res.headers['content-type']]).toEqual([
      'no-store',
      `default-src 'none'; style-src 'unsafe-inline'; frame-ancestors ${as.issuer}`,
      undefined,
      'text/html; charset=utf-8',
    ]);
    expect(events).toEqual([{ provider: 'default', reason: 'frontchannel' }]);
  });

  it('should refuse (400) another issuer, a missing or repeated sid, and end nobody for an unknown sid (200)', async () => {
    const { agent, sid } = await loggedIn(new CookieJar());
    const iss = encodeURIComponent(as.issuer);
    for (const query of [`iss=${encodeURIComponent('https://op.example')}&sid=${sid}`, `iss=${iss}`, `sid=${sid}`, `iss=${iss}&sid=${sid}&sid=${sid}`, `iss=${iss}&sid=${'x'.repeat(600)}`]) {
      const res = await request(test.app).get(`/frontchannel-logout?${query}`);
      expect([query, res.status, res.headers['x-frame-options']]).toEqual([query, 400, 'DENY']);
    }
    expect((await request(test.app).get(`/frontchannel-logout?iss=${iss}&sid=not-a-session`)).status).toBe(200);
    expect((await agent.get('/session')).body.authenticated).toBe(true);
    expect(events).toEqual([]);
  });
});

describe('frontchannelLogout config', () => {
  const base = () => as.providerOptions({ endSessionUrl: undefined, redirectUri: REDIRECT_URI, clientId: 'rp-fcl' });
  it.each([
    [{ frontchannelLogout: { path: false } }, 'oauthMiddleware: `frontchannelLogout.path` must be a path starting with "/"; set `frontchannelLogout: false` to turn the route off'],
    [{ frontchannelLogout: { paht: '/x' } }, 'oauthMiddleware: `frontchannelLogout.paht` is not an option'],
    [{ frontchannelLogout: 'yes' }, 'oauthMiddleware: `frontchannelLogout` must be true, false or { path }'],
    [
      { frontchannelLogout: true, issuer: undefined, authorizationUrl: 'https://op.example/a', tokenUrl: 'https://op.example/t' },
      'oauthMiddleware: `frontchannelLogout` needs a provider with `issuer`',
    ],
  ])('should refuse %j at startup', (overrides, message) => {
    expect(() => createTestApp({ oauth: { ...base(), ...overrides } as never })).toThrow(message);
  });

  it('should mount the route at the given path only', async () => {
    const { app } = createTestApp({ oauth: { ...base(), frontchannelLogout: { path: '/oidc/fcl' } } });
    const iss = encodeURIComponent(as.issuer);
    expect((await request(app).get(`/oidc/fcl?iss=${iss}&sid=s`)).status).toBe(200);
    expect((await request(app).get(`/frontchannel-logout?iss=${iss}&sid=s`)).status).toBe(404);
  });
});
