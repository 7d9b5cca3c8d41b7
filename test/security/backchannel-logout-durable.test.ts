import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { generateKeyPair, SignJWT } from 'jose';
import { oauthErrorHandler, oauthMiddleware } from 'express-oauth2-session';
import { CookieJar, loginWithoutBrowser } from 'express-oauth2-session/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { endSessionAtAs } from '../support/as-session-end';
import { FaultyStore } from '../support/faulty-store';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Issue 22 item 4, attacks on back-channel logout against the real AS (oidc-provider sends each
// logout token to a recorder, which forwards it to the app registered for that client and keeps
// the token and the app's answer): a delivery that failed on a store error can be retried; two
// clients of one issuer; one provider's token ends only that provider's login (unless the app opts
// in); an app-wide body parser; index entries removed at logout and finite; JWKS failures back off.
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const CALLBACK_B = 'http://127.0.0.1:3000/callback/b';
let as: TestAuthorizationServer;
let otherAs: TestAuthorizationServer;
let server: http.Server;
let origin: string;
const apps = new Map<string, express.Express>();
const recorded: Array<{ client: string; token: string; status: number }> = [];

function bclClient(clientId: string, redirectUris: string[] = [REDIRECT_URI]) {
  return {
    client_id: clientId,
    client_secret: `${clientId}-secret`,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: redirectUris,
    backchannel_logout_uri: `${origin}/recorded-bcl/${clientId}`,
    backchannel_logout_session_required: true,
  };
}

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    const client = decodeURIComponent(req.url!.split('/').pop()!);
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const forwarded = await request(apps.get(client)!).post('/backchannel-logout').type('form').send(raw);
    recorded.push({ client, token: new URLSearchParams(raw).get('logout_token') ?? '', status: forwarded.status });
    res.writeHead(forwarded.status).end(forwarded.text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const both = [REDIRECT_URI, CALLBACK_B];
  [as, otherAs] = await Promise.all([
    startAuthorizationServer({
      redirectUris: both,
      accessTokenTTL: 300,
      extraClients: [bclClient('rp-bcl-faulty'), bclClient('rp-bcl-a', both), bclClient('rp-bcl-b', both), bclClient('rp-bcl-one', both), bclClient('rp-bcl-whole-one', both)],
    }),
    startAuthorizationServer({ redirectUris: both, accessTokenTTL: 300, extraClients: [bclClient('rp-bcl-two', both), bclClient('rp-bcl-whole-two', both)] }),
  ]);
});
afterAll(async () => {
  await Promise.all([as.stop(), otherAs.stop()]);
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});
afterEach(() => jest.restoreAllMocks());

/** An app with two providers `a` and `b` (their clients at `asA`/`asB`) and a probe of both logins; the clients' logout tokens reach it. */
function twoProviderApp(clients: [string, string], servers: [TestAuthorizationServer, TestAuthorizationServer], backchannelLogout: true | { endSession: boolean }) {
  let gate: Promise<void> | undefined;
  const test = createTestApp({
    oauth: {
      providers: {
        a: providerOptions(servers[0], { clientId: clients[0] }) as never,
        b: providerOptions(servers[1], { clientId: clients[1], redirectUri: CALLBACK_B }) as never,
      },
      backchannelLogout,
    },
    routes: (app) => {
      app.get('/logins', (req, res) => void res.json({ a: req.oauth.provider('a').isAuthenticated(), b: req.oauth.provider('b').isAuthenticated(), sessionId: req.sessionID }));
      // A request in flight while a logout lands: it holds the session as loaded, then writes it.
      app.get('/slow-write', async (req, res) => {
        await gate;
        (req.session as unknown as { visits?: number }).visits = 1;
        res.json({ ok: true });
      });
    },
  });
  for (const client of clients) apps.set(client, test.app);
  const hold = () => {
    let open!: () => void;
    gate = new Promise<void>((resolve) => (open = resolve));
    return () => open();
  };
  return { ...test, hold };
}

const storeGet = (store: session.Store, key: string) => new Promise<unknown>((resolve, reject) => store.get(key, (err, value) => (err ? reject(err) : resolve(value ?? null))));

/** The logout-index entries of a MemoryStore (replay `jti` entries excluded): key → stored entry. */
function indexEntries(store: session.MemoryStore): Record<string, { cookie: { expires: string | null }; oauthSessions: Record<string, number> }> {
  const all = (store as unknown as { sessions: Record<string, string> }).sessions;
  return Object.fromEntries(
    Object.entries(all)
      .filter(([key]) => key.startsWith('oauth-bcl:') && !key.startsWith('oauth-bcl:jti:'))
      .map(([key, value]) => [key, JSON.parse(value)]),
  );
}

describe('22.4a back-channel logout after a store error', () => {
  it("should end the session at the provider's retry of a delivery that failed with 503 (the jti is recorded only once the sessions ended)", async () => {
    const store = new FaultyStore();
    const test = createTestApp({ store, oauth: { ...providerOptions(as, { clientId: 'rp-bcl-faulty' }), backchannelLogout: true } });
    apps.set('rp-bcl-faulty', test.app);
    const jar = new CookieJar();
    const agent = request.agent(test.app);
    expect((await loginWithoutBrowser(agent, { user: 'alice', jar })).status).toBe(303);
    const { sessionId } = (await agent.get('/session')).body;

    store.fail('destroy'); // the store fails while the session is being ended
    const before = recorded.length;
    expect(await endSessionAtAs(as.endpoints.endSession, 'rp-bcl-faulty', jar)).toBe(303);
    expect(recorded.slice(before).map((r) => [r.client, r.status])).toEqual([['rp-bcl-faulty', 503]]);
    store.heal();
    expect((await agent.get('/session')).body.authenticated).toBe(true);

    const retry = await request(test.app).post('/backchannel-logout').type('form').send({ logout_token: recorded[before]!.token });
    expect(retry.status).toBe(200);
    expect((await agent.get('/session')).body.authenticated).toBe(false);
    expect([await storeGet(store, sessionId), await storeGet(store, `${sessionId}:oauth:default`)]).toEqual([null, null]);
    // Now it is done: the same token again is a replay.
    const replay = await request(test.app).post('/backchannel-logout').type('form').send({ logout_token: recorded[before]!.token });
    expect([replay.status, replay.body]).toEqual([400, { error: 'invalid_request' }]);
  });
});

describe('22.4b two clients of one issuer', () => {
  it("should verify the logout token against the client its aud names (the second provider of the issuer) and end only that provider's login", async () => {
    const test = twoProviderApp(['rp-bcl-a', 'rp-bcl-b'], [as, as], true);
    const jar = new CookieJar();
    const agent = request.agent(test.app);
    expect((await loginWithoutBrowser(agent, { loginPath: '/login/a', user: 'alice', jar })).status).toBe(303);
    expect((await loginWithoutBrowser(agent, { loginPath: '/login/b', user: 'alice', jar })).status).toBe(303);
    const { sessionId } = (await agent.get('/logins')).body;
    expect((await agent.get('/logins')).body).toEqual({ a: true, b: true, sessionId });

    const before = recorded.length;
    expect(await endSessionAtAs(as.endpoints.endSession, 'rp-bcl-b', jar, { everyClient: false })).toBe(303);

    expect(recorded.slice(before).map((r) => [r.client, r.status])).toEqual([['rp-bcl-b', 200]]);
    expect((await agent.get('/logins')).body).toEqual({ a: true, b: false, sessionId });
    expect(await storeGet(test.store, `${sessionId}:oauth:b`)).toBeNull();
    expect(await storeGet(test.store, `${sessionId}:oauth:a`)).not.toBeNull();
  });
});

describe("22.4c one provider's logout token and the session's other logins", () => {
  it("should end only that provider's login and keep the session and the other provider's login", async () => {
    const test = twoProviderApp(['rp-bcl-one', 'rp-bcl-two'], [as, otherAs], true);
    const agent = request.agent(test.app);
    const jarOne = new CookieJar();
    const jarTwo = new CookieJar();
    expect((await loginWithoutBrowser(agent, { loginPath: '/login/a', user: 'alice', jar: jarOne })).status).toBe(303);
    expect((await loginWithoutBrowser(agent, { loginPath: '/login/b', user: 'alice', jar: jarTwo })).status).toBe(303);
    const { sessionId } = (await agent.get('/logins')).body;

    // A request that loaded the session (both logins) before the logout, and saves it after.
    const release = test.hold();
    const inFlight = agent.get('/slow-write').then((r) => r.status);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const before = recorded.length;
    expect(await endSessionAtAs(otherAs.endpoints.endSession, 'rp-bcl-two', jarTwo)).toBe(303);
    expect(recorded.slice(before).map((r) => [r.client, r.status])).toEqual([['rp-bcl-two', 200]]);
    release();
    expect(await inFlight).toBe(200);

    // The stale save did not bring the ended login back; the other login and the session stay.
    expect((await agent.get('/logins')).body).toEqual({ a: true, b: false, sessionId });
    expect(await storeGet(test.store, `${sessionId}:oauth:b`)).toBeNull();
    expect((await agent.get('/me')).status).toBe(200);
  });

  it('should end the whole session, every provider, with backchannelLogout: { endSession: true }', async () => {
    const test = twoProviderApp(['rp-bcl-whole-one', 'rp-bcl-whole-two'], [as, otherAs], { endSession: true });
    const agent = request.agent(test.app);
    const jarTwo = new CookieJar();
    expect((await loginWithoutBrowser(agent, { loginPath: '/login/a', user: 'alice', jar: new CookieJar() })).status).toBe(303);
    expect((await loginWithoutBrowser(agent, { loginPath: '/login/b', user: 'alice', jar: jarTwo })).status).toBe(303);
    const { sessionId } = (await agent.get('/logins')).body;

    const before = recorded.length;
    expect(await endSessionAtAs(otherAs.endpoints.endSession, 'rp-bcl-whole-two', jarTwo)).toBe(303);

    expect(recorded.slice(before).map((r) => [r.client, r.status])).toEqual([['rp-bcl-whole-two', 200]]);
    expect((await agent.get('/logins')).body).toEqual({ a: false, b: false, sessionId: expect.any(String) });
    expect([await storeGet(test.store, sessionId), await storeGet(test.store, `${sessionId}:oauth:a`), await storeGet(test.store, `${sessionId}:oauth:b`)]).toEqual([null, null, null]);
  });
});

describe('22.4d an app-wide body parser', () => {
  it.each([
    ['express.text (the body read into a string)', () => express.text({ type: '*/*' })],
    ['express.raw (the body read into a Buffer)', () => express.raw({ type: () => true })],
  ])('should answer 400 invalid_request, not hang, when %s already read the body', async (_label, parser) => {
    const app = express();
    app.use(session({ secret: 's', resave: false, saveUninitialized: false }));
    app.use(parser());
    app.use(oauthMiddleware({ ...providerOptions(as, { clientId: 'rp-bcl-faulty' }), backchannelLogout: true }));
    app.use(oauthErrorHandler());
    const res = await request(app).post('/backchannel-logout').type('form').send('logout_token=x').timeout(3000);
    expect([res.status, res.body]).toEqual([400, { error: 'invalid_request' }]);
  });
});

describe('22.4e the logout index', () => {
  it('should hold no entry after logins that ended (RP logout, re-login, back-channel), and give each entry an expiry under the default cookie', async () => {
    const test = createTestApp({ oauth: { ...providerOptions(as, { clientId: 'rp-bcl-faulty' }), backchannelLogout: true } });
    apps.set('rp-bcl-faulty', test.app);
    const store = test.store as session.MemoryStore;
    for (let i = 0; i < 8; i++) {
      const agent = request.agent(test.app);
      expect((await loginWithoutBrowser(agent, { user: `user${i}` })).status).toBe(303);
      const entries = Object.values(indexEntries(store));
      expect(entries.length).toBeGreaterThan(0);
      for (const entry of entries) expect(Number.isFinite(new Date(entry.cookie.expires ?? NaN).getTime())).toBe(true);
      await agent.post('/logout').expect(303);
    }
    expect(indexEntries(store)).toEqual({});

    // Logging in again replaces the session id: only the new one is listed.
    const jar = new CookieJar();
    const agent = request.agent(test.app);
    await loginWithoutBrowser(agent, { user: 'alice', jar });
    await loginWithoutBrowser(agent, { user: 'alice', jar });
    const { sessionId } = (await agent.get('/session')).body;
    expect(new Set(Object.values(indexEntries(store)).flatMap((e) => Object.keys(e.oauthSessions)))).toEqual(new Set([sessionId]));

    // A back-channel logout takes the session it ended out of the index.
    const before = recorded.length;
    expect(await endSessionAtAs(as.endpoints.endSession, 'rp-bcl-faulty', jar)).toBe(303);
    expect(recorded.slice(before).map((r) => r.status)).toEqual([200]);
    expect(indexEntries(store)).toEqual({});
  });
});

describe('22.4f JWKS outage', () => {
  it('should make 1 JWKS request for 30 forged logout tokens while the JWKS fails, then retry after 1 s', async () => {
    let jwksRequests = 0;
    const jwks = http.createServer((_req, res) => {
      jwksRequests += 1;
      res.writeHead(503).end();
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', () => resolve()));
    try {
      let offsetMs = 0;
      const frozen = Date.now();
      jest.spyOn(Date, 'now').mockImplementation(() => frozen + offsetMs);
      const jwksUri = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`;
      const { app } = createTestApp({ oauth: { ...providerOptions(as, { clientId: 'rp-bcl-jwks', jwksUri }), backchannelLogout: true } });
      const { privateKey } = await generateKeyPair('RS256');
      const forged = (i: number) =>
        new SignJWT({ events: { [EVENT]: {} }, sub: 'alice' })
          .setProtectedHeader({ alg: 'RS256', kid: 'forged' })
          .setIssuer(as.issuer)
          .setAudience('rp-bcl-jwks')
          .setIssuedAt()
          .setJti(`forged-${i}`)
          .sign(privateKey);
      const post = async (i: number) =>
        (
          await request(app)
            .post('/backchannel-logout')
            .type('form')
            .send({ logout_token: await forged(i) })
        ).status;

      const statuses = [];
      for (let i = 0; i < 30; i++) statuses.push(await post(i));
      expect([new Set(statuses), jwksRequests]).toEqual([new Set([400]), 1]);
      offsetMs += 1000; // the first backoff has passed: one new attempt (next wait 2 s)
      expect([await post(30), await post(31), jwksRequests]).toEqual([400, 400, 2]);
      offsetMs += 1000;
      expect([await post(32), jwksRequests]).toEqual([400, 2]);
    } finally {
      await new Promise<void>((resolve) => jwks.close(() => resolve()));
    }
  });
});
