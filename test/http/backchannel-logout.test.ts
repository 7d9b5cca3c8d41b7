import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { CookieJar, loginWithoutBrowser } from 'express-oauth2-session/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { endSessionAtAs } from '../support/as-session-end';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// OIDC Back-Channel Logout 1.0 against the real AS: the app listens on an ephemeral port and is
// registered as rp-bcl's backchannel_logout_uri (through a recorder that keeps each logout token
// and forwards it to POST /backchannel-logout). Logging out at the AS ends every app session of
// that AS session; forged, replayed and malformed logout tokens get 400 invalid_request.
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
let as: TestAuthorizationServer;
let server: http.Server;
let origin: string;
let test: ReturnType<typeof createTestApp>;
const recorded: Array<{ token: string; status: number }> = [];

async function forwardToApp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  const forwarded = await fetch(`${origin}/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: raw });
  recorded.push({ token: new URLSearchParams(raw).get('logout_token') ?? '', status: forwarded.status });
  res.writeHead(forwarded.status).end(await forwarded.text());
}

beforeAll(async () => {
  server = http.createServer((req, res) => (req.url === '/recorded-bcl' ? void forwardToApp(req, res) : test.app(req, res)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = {
    client_id: 'rp-bcl',
    client_secret: 'rp-bcl-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [REDIRECT_URI],
    backchannel_logout_uri: `${origin}/recorded-bcl`,
    backchannel_logout_session_required: true,
  };
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300, extraClients: [client] });
  test = createTestApp({ oauth: { ...providerOptions(as, { clientId: 'rp-bcl' }), backchannelLogout: true } });
});
afterAll(async () => {
  await as.stop();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});

/** A logged-in agent (AS browser state in `jar`) and its session id. */
async function loggedIn(jar: CookieJar) {
  const agent = request.agent(test.app);
  expect((await loginWithoutBrowser(agent, { user: 'alice', jar })).status).toBe(303);
  const probe = await agent.get('/session');
  expect(probe.body.authenticated).toBe(true);
  return { agent, sessionId: probe.body.sessionId as string };
}

const storeGet = (key: string) => new Promise<unknown>((resolve, reject) => test.store.get(key, (err, value) => (err ? reject(err) : resolve(value ?? null))));

/** Log in in one AS browser session, log out at the AS: the logout token the app received. */
async function logoutTokenOfAsLogout(): Promise<string> {
  const jar = new CookieJar();
  await loggedIn(jar);
  const before = recorded.length;
  expect(await endSessionAtAs(as.endpoints.endSession, 'rp-bcl', jar)).toBe(303);
  expect(recorded.slice(before).map((r) => r.status)).toEqual([200]);
  return recorded[before]!.token;
}

describe('POST /backchannel-logout', () => {
  it('should end both sessions of one AS session (two agents) and keep another AS session logged in when the user logs out at the AS', async () => {
    const browser = new CookieJar();
    const first = await loggedIn(browser);
    const second = await loggedIn(browser);
    const elsewhere = await loggedIn(new CookieJar());
    expect(new Set([first.sessionId, second.sessionId, elsewhere.sessionId]).size).toBe(3);
    expect(await storeGet(`${first.sessionId}:oauth:default`)).not.toBeNull();
    const before = recorded.length;

    expect(await endSessionAtAs(as.endpoints.endSession, 'rp-bcl', browser)).toBe(303);

    expect(recorded.slice(before).map((r) => r.status)).toEqual([200]);
    const claims = decodeJwt(recorded[before]!.token);
    expect(Object.keys(claims).sort()).toEqual(['aud', 'events', 'exp', 'iat', 'iss', 'jti', 'sid', 'sub']);
    expect([claims.iss, claims.aud, claims.sub, claims.events]).toEqual([as.issuer, 'rp-bcl', 'alice', { [EVENT]: {} }]);
    for (const { agent, sessionId } of [first, second]) {
      expect((await agent.get('/session').expect(200)).body).toEqual({ authenticated: false, user: null, sessionId: expect.any(String) });
      expect(await storeGet(sessionId)).toBeNull();
      expect(await storeGet(`${sessionId}:oauth:default`)).toBeNull();
      expect(await storeGet(`${sessionId}:oauth:ended`)).toEqual({ cookie: expect.any(Object), oauthEnded: expect.any(Number) });
    }
    expect((await elsewhere.agent.get('/session')).body).toEqual({ authenticated: true, user: expect.objectContaining({ sub: 'alice' }), sessionId: elsewhere.sessionId });
  });

  it('should answer 200 with Cache-Control no-store, then 400 invalid_request to the same logout token again (jti replay)', async () => {
    const token = await logoutTokenOfAsLogout();
    const replay = await request(test.app).post('/backchannel-logout').type('form').send({ logout_token: token });
    expect([replay.status, replay.body, replay.headers['cache-control']]).toEqual([400, { error: 'invalid_request' }, 'no-store']);
  });

  it('should answer 400 invalid_request to a logout token whose claims were changed after signing', async () => {
    const token = await logoutTokenOfAsLogout();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'bob', jti: 'forged-jti' };
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    const res = await request(test.app).post('/backchannel-logout').type('form').send({ logout_token: forged });
    expect([res.status, res.body]).toEqual([400, { error: 'invalid_request' }]);
  });

  it("should answer 400 invalid_request to a well-formed logout token signed with a key that is not the AS's", async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ events: { [EVENT]: {} }, sub: 'alice', sid: 'any' })
      .setProtectedHeader({ alg: 'RS256', kid: 'harness-rs256' })
      .setIssuer(as.issuer)
      .setAudience('rp-bcl')
      .setIssuedAt()
      .setExpirationTime('2m')
      .setJti('jti-of-a-stranger')
      .sign(privateKey);
    const res = await request(test.app).post('/backchannel-logout').type('form').send({ logout_token: forged });
    expect([res.status, res.body]).toEqual([400, { error: 'invalid_request' }]);
  });

  it.each([
    ['no logout_token', 'form', 'other=1'],
    ['an ID-token-like JWT from an unknown issuer', 'form', `logout_token=${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"iss":"https://evil.test"}').toString('base64url')}.`],
    ['a JSON body', 'json', '{"logout_token":"x"}'],
  ])('should answer 400 invalid_request to %s', async (_label, type, body) => {
    const res = await request(test.app).post('/backchannel-logout').type(type).send(body);
    expect([res.status, res.body, res.headers['cache-control']]).toEqual([400, { error: 'invalid_request' }, 'no-store']);
  });

  it('should answer 405 to GET (the route takes POST only)', async () => {
    const res = await request(test.app).get('/backchannel-logout');
    expect([res.status, res.headers.allow]).toEqual([405, 'POST']);
  });
});
