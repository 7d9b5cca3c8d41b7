import http from 'node:http';
import session from 'express-session';
import request from 'supertest';
import { expireAccessToken } from 'express-oauth2-session/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { authorize, login, pathOf } from '../support/login-flow';
import { startResourceServer, type ResourceServer } from '../support/resource-server';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Checklist E (#24-#29) token endpoint faults and F (#30-#35) refresh and resource access.
let as: TestAuthorizationServer;
let api: ResourceServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 3600 });
  api = await startResourceServer({ issuer: as.issuer });
});
afterAll(async () => {
  await api.stop();
  await as.stop();
});
beforeEach(() => as.clearRequests());

/** Logged-in agent on an app whose /call route makes one API call through req.oauth. */
async function loggedIn(overrides = {}) {
  const store = new session.MemoryStore();
  const refreshTokens: string[] = [];
  const { app, oauth } = createTestApp({
    store,
    oauth: { ...providerOptions(as, { apiBaseUrl: api.url, ...overrides }), onTokens: ({ tokens }) => void (tokens?.refreshToken && refreshTokens.push(tokens.refreshToken)) },
    routes: (a) =>
      a.get('/call', async (req, res, next) => {
        try {
          const r = await req.oauth.get('/api/me');
          res.status(r.status).json(await r.json());
        } catch (err) {
          next(err);
        }
      }),
  });
  const agent = request.agent(app);
  await login(agent);
  const sid = (await agent.get('/session')).body.sessionId as string;
  await as.clearRequests();
  return { agent, store, sid, oauth, refreshTokens };
}

async function callbackWithFault(status: number, body: unknown) {
  const { app } = createTestApp({ oauth: providerOptions(as) });
  const agent = request.agent(app);
  const { callbackUrl } = await authorize(agent);
  await as.failNext({ path: '/token', status, body });
  const res = await agent.get(pathOf(callbackUrl)).set('Accept', 'application/json');
  return { res, authenticated: (await agent.get('/session')).body.authenticated as boolean };
}

describe('#24 token endpoint 5xx', () => {
  it('should answer the callback 502, logged out; a refresh failure keeps the tokens', async () => {
    expect(await callbackWithFault(503, { error: 'temporarily_unavailable' })).toMatchObject({ res: { status: 503 }, authenticated: false });
    expect(await callbackWithFault(500, '<html>error</html>')).toMatchObject({ res: { status: 502 }, authenticated: false });
    const { agent, store, sid, refreshTokens } = await loggedIn();
    await expireAccessToken(store, sid);
    await as.failNext({ path: '/token', status: 500, body: { error: 'server_error' } });
    expect((await agent.get('/call').set('Accept', 'application/json')).status).toBe(502);
    expect((await agent.get('/call').expect(200)).body.sub).toBe('alice'); // the kept refresh token still works
    expect(refreshTokens).toHaveLength(2); // login + the one successful refresh
  });
});

describe('#24 Retry-After', () => {
  it('should make no token call until Retry-After has passed, then refresh once', async () => {
    const { agent, store, sid } = await loggedIn();
    await expireAccessToken(store, sid);
    await as.failNext({ path: '/token', status: 503, body: { error: 'temporarily_unavailable' }, headers: { 'retry-after': '30' } });
    expect((await agent.get('/call').set('Accept', 'application/json')).status).toBe(503);
    expect((await agent.get('/call').set('Accept', 'application/json')).status).toBe(503); // the AS is fine again, but asked us to wait
    expect(await as.tokenRequests('refresh_token')).toHaveLength(0);
    const clock = jest.spyOn(Date, 'now');
    clock.mockReturnValue(Date.now() + 31_000);
    try {
      expect((await agent.get('/call').expect(200)).body.sub).toBe('alice');
    } finally {
      clock.mockRestore();
    }
    expect(await as.tokenRequests('refresh_token')).toHaveLength(1);
  });
});

describe('#25 timeout and network failure', () => {
  it('should answer 504 within the configured timeout when the token endpoint hangs, and 502 when it resets', async () => {
    const sockets = new Set<import('node:net').Socket>();
    let mode: 'hang' | 'reset' = 'hang';
    const server = http.createServer((req) => {
      sockets.add(req.socket);
      if (mode === 'reset') req.socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const tokenUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/token`;
    try {
      for (const [m, status, code] of [
        ['hang', 504, 'OAUTH_TIMEOUT'],
        ['reset', 502, 'OAUTH_NETWORK_ERROR'],
      ] as const) {
        mode = m;
        const { app } = createTestApp({ oauth: providerOptions(as, { tokenUrl, httpTimeoutMs: 300 }) });
        const agent = request.agent(app);
        const { callbackUrl } = await authorize(agent);
        const res = await agent.get(pathOf(callbackUrl)).set('Accept', 'application/json');
        expect([res.status, res.body.code]).toEqual([status, code]);
      }
    } finally {
      sockets.forEach((s) => s.destroy());
      server.close();
    }
  });
});

describe('#26 #27 #28 #29 malformed, empty, mistyped and 4xx token responses', () => {
  it.each([
    ['HTML', 200, '<html>login</html>', 502],
    ['truncated JSON', 200, '{"access_token":', 502],
    ['null', 200, 'null', 502],
    ['an array', 200, '[]', 502],
    ['{}', 200, {}, 502],
    ['an empty access_token', 200, { access_token: '', token_type: 'Bearer' }, 502],
    ['a numeric access_token', 200, { access_token: 123, token_type: 'Bearer' }, 502],
    ['an error with HTTP 200', 200, { error: 'invalid_request' }, 502],
    ['token_type mac', 200, { access_token: 'x', token_type: 'mac' }, 502],
    ['no token_type', 200, { access_token: 'x' }, 502],
    ['a textual expires_in', 200, { access_token: 'x', token_type: 'Bearer', expires_in: 'soon' }, 502],
    ['400 invalid_grant', 400, { error: 'invalid_grant' }, 400],
    ['401 invalid_client', 401, { error: 'invalid_client' }, 500],
  ])('should reject %s at the callback and stay logged out', async (_name, status, body, expected) => {
    const { res, authenticated } = await callbackWithFault(status, body);
    expect([res.status, authenticated]).toEqual([expected, false]);
    expect(res.text).not.toContain('login</html>');
  });
});

describe('#30 expiry computation', () => {
  it('should refresh only once fewer than refreshLeewaySeconds remain', async () => {
    const { agent } = await loggedIn({ refreshLeewaySeconds: 60 });
    const start = Date.now();
    const clock = jest.spyOn(Date, 'now');
    try {
      clock.mockReturnValue(start + 3_530_000); // 70 s left
      await agent.get('/call').expect(200);
      expect(await as.tokenRequests('refresh_token')).toHaveLength(0);
      clock.mockReturnValue(start + 3_560_000); // 40 s left
      await agent.get('/call').expect(200);
      expect(await as.tokenRequests('refresh_token')).toHaveLength(1);
    } finally {
      clock.mockRestore();
    }
  });
});

describe('#31 refresh rejected vs transient failure', () => {
  it('should end the login on invalid_grant (one token call) and keep it on 503', async () => {
    const transient = await loggedIn();
    await expireAccessToken(transient.store, transient.sid);
    await as.failNext({ path: '/token', status: 503, body: { error: 'temporarily_unavailable' } });
    expect((await transient.agent.get('/call').set('Accept', 'application/json')).status).toBe(503);
    expect((await transient.agent.get('/session')).body.authenticated).toBe(true);

    const rejected = await loggedIn();
    await expireAccessToken(rejected.store, rejected.sid);
    await as.failNext({ path: '/token', status: 400, body: { error: 'invalid_grant' } });
    const res = await rejected.agent.get('/call').set('Accept', 'application/json');
    expect([res.status, res.body.code]).toEqual([401, 'OAUTH_REAUTHENTICATION_REQUIRED']);
    expect((await rejected.agent.get('/session')).body.authenticated).toBe(false);
  });
});

describe('#32 refresh bookkeeping', () => {
  it('should store each rotated refresh token and present only the newest (a reused one would revoke the grant)', async () => {
    const { agent, store, sid, refreshTokens } = await loggedIn();
    for (let i = 0; i < 3; i += 1) {
      await expireAccessToken(store, sid);
      await agent.get('/call').expect(200);
    }
    expect(new Set(refreshTokens).size).toBe(4); // login + 3 rotations, all different
    expect((await as.tokenRequests('refresh_token')).map((r) => r.status)).toEqual([200, 200, 200]);
  });
});

describe('#33 concurrent refresh in one process', () => {
  it('should make one token call for 20 parallel calls, and one per user when two users expire together', async () => {
    const alice = await loggedIn();
    await expireAccessToken(alice.store, alice.sid);
    const results = await Promise.all(Array.from({ length: 20 }, () => alice.agent.get('/call')));
    expect(results.map((r) => r.body.sub)).toEqual(Array(20).fill('alice'));
    expect(await as.tokenRequests('refresh_token')).toHaveLength(1);

    const [u1, u2] = [await loggedIn(), await loggedIn()];
    await Promise.all([expireAccessToken(u1.store, u1.sid), expireAccessToken(u2.store, u2.sid)]);
    await as.clearRequests();
    const both = await Promise.all([u1.agent.get('/call'), u2.agent.get('/call'), u1.agent.get('/call'), u2.agent.get('/call')]);
    expect(both.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(await as.tokenRequests('refresh_token')).toHaveLength(2);
  });
});

describe('#34 lost updates', () => {
  it('should keep the rotated refresh token when a slow request saves its stale session copy after a refresh', async () => {
    // The same with connect-redis and 4 processes: test/client/redis-refresh.test.ts.
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const store = new session.MemoryStore();
    const { app } = createTestApp({
      store,
      oauth: providerOptions(as, { apiBaseUrl: api.url }),
      routes: (a) => {
        a.get('/slow', async (req, res) => {
          await gate;
          (req.session as unknown as { cart: string[] }).cart = ['book'];
          res.json({ ok: true });
        });
        a.get('/call', async (req, res) => res.status((await req.oauth.get('/api/me')).status).end());
      },
    });
    const agent = request.agent(app);
    await login(agent);
    const sid = (await agent.get('/session')).body.sessionId as string;
    await expireAccessToken(store, sid);
    const slow = agent.get('/slow').then((r) => r);
    await new Promise((r) => setTimeout(r, 50));
    await agent.get('/call').expect(200);
    release();
    await slow;
    await expireAccessToken(store, sid);
    await agent.get('/call').expect(200);
    expect((await as.tokenRequests('refresh_token')).map((r) => r.status)).toEqual([200, 200]);
  });
});

describe('#35 resource server 401 and WWW-Authenticate parsing', () => {
  async function withChallenge(status: number, challenge: string | undefined) {
    let hits = 0;
    const rs = http.createServer((_req, res) => {
      hits += 1;
      if (hits === 1) res.writeHead(status, challenge ? { 'www-authenticate': challenge } : {}).end('{}');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((resolve) => rs.listen(0, '127.0.0.1', () => resolve()));
    const url = `http://127.0.0.1:${(rs.address() as { port: number }).port}`;
    try {
      const { agent } = await loggedIn({ apiBaseUrl: url });
      const res = await agent.get('/call');
      return { status: res.status, hits, refreshes: (await as.tokenRequests('refresh_token')).length };
    } finally {
      rs.close();
    }
  }

  it.each([
    ['Bearer error="invalid_token"', 401, 'Bearer error="invalid_token"', { status: 200, hits: 2, refreshes: 1 }],
    ['several challenges', 401, 'DPoP algs="ES256", Bearer realm="x", error="invalid_token"', { status: 200, hits: 2, refreshes: 1 }],
    ['401 without invalid_token', 401, 'Bearer realm="x"', { status: 401, hits: 1, refreshes: 0 }],
    ['a garbage header', 401, '@@@ ,,, ===', { status: 401, hits: 1, refreshes: 0 }],
    ['no header', 401, undefined, { status: 401, hits: 1, refreshes: 0 }],
    ['403 insufficient_scope', 403, 'Bearer error="insufficient_scope", scope="admin"', { status: 403, hits: 1, refreshes: 0 }],
  ])('%s', async (_name, status, challenge, expected) => {
    expect(await withChallenge(status, challenge)).toEqual(expected);
  });
});
