import request from 'supertest';
import { guardSessionStore } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { FaultyStore } from '../support/faulty-store';
import { authorize, login, pathOf } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Checklist G (#36), SPEC §7: when the session store is down, the package's routes and req.oauth
// answer 503 SESSION_UNAVAILABLE, nothing hangs past the timeout, and tokens are intact once it is back.
// Real Redis killed, paused and restarted: test/client/redis-refresh.test.ts.
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

const UNAVAILABLE = { error: 'SessionUnavailableError', code: 'OAUTH_SESSION_UNAVAILABLE', message: 'The session store is unavailable; try again shortly.' };

describe('#36 session store disconnected (express-session continues without req.session)', () => {
  it('should answer 503 on /login, /callback, /logout, requireAuth routes and req.oauth, with no token request', async () => {
    const store = new FaultyStore();
    const { app } = createTestApp({ store, oauth: providerOptions(as) });
    const agent = request.agent(app);
    const { callbackUrl } = await authorize(agent);
    store.emit('disconnect');

    for (const res of [await agent.get('/login'), await agent.get(pathOf(callbackUrl)), await agent.post('/logout'), await agent.get('/me').set('Accept', 'application/json')]) {
      expect(res.status).toBe(503);
      expect(res.headers.location).toBeUndefined();
    }
    expect((await agent.get('/login')).body).toEqual(UNAVAILABLE);
    expect(await as.tokenRequests()).toHaveLength(0);

    store.emit('connect');
    expect((await agent.get(pathOf(callbackUrl))).status).toBe(303); // the transaction survived the outage
  });
});

describe('#36 session store failing or hanging (guardSessionStore)', () => {
  it('should answer 503 and not redirect to the AS when the login transaction cannot be saved', async () => {
    const store = new FaultyStore();
    const { app } = createTestApp({ store: guardSessionStore(store, { timeoutMs: 500 }), oauth: providerOptions(as) });
    store.fail('set');
    const res = await request(app).get('/login');
    expect(res.status).toBe(503);
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('should answer 503 with zero token requests when the store errors at the callback', async () => {
    const store = new FaultyStore();
    const { app } = createTestApp({ store: guardSessionStore(store, { timeoutMs: 500 }), oauth: providerOptions(as) });
    const agent = request.agent(app);
    const { callbackUrl } = await authorize(agent);
    store.fail('get');
    expect((await agent.get(pathOf(callbackUrl))).status).toBe(503);
    expect(await as.tokenRequests()).toHaveLength(0);
  });

  it('should answer 503 within the deadline when the store never answers, then recover with tokens intact', async () => {
    const store = new FaultyStore();
    const { app } = createTestApp({ store: guardSessionStore(store, { timeoutMs: 300 }), oauth: providerOptions(as) });
    const agent = request.agent(app);
    await login(agent);
    expect((await agent.get('/me').expect(200)).body.sub).toBe('alice');

    store.fail('get', 'hang');
    const hung = await agent.get('/me').set('Accept', 'application/json');
    expect(hung.status).toBe(503);

    store.heal();
    const back = await agent.get('/me').expect(200);
    expect(back.body.sub).toBe('alice');
    expect((await as.tokenRequests()).map((r) => r.grantType)).toEqual(['authorization_code']);
  });

  it('should answer 503 from req.oauth when only the token record read fails', async () => {
    const store = new FaultyStore();
    const { app } = createTestApp({ store, oauth: { ...providerOptions(as), httpTimeoutMs: 3000 } });
    const agent = request.agent(app);
    await login(agent);
    // Fail only reads of the token record: the session itself still loads.
    const originalGet = store.get.bind(store);
    store.get = (sid, cb) => (sid.includes(':oauth:') ? process.nextTick(() => cb(new Error('down'))) : originalGet(sid, cb));
    const res = await agent.get('/me').set('Accept', 'application/json');
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('OAUTH_SESSION_UNAVAILABLE');
    store.get = originalGet;
    expect((await agent.get('/me').expect(200)).body.sub).toBe('alice');
  });
});

describe('#36 session store hanging after a restart (why guardSessionStore is exported)', () => {
  /** A logged-in cookie, then a "restarted" app whose new store object (same data) hangs on get. */
  async function returningUserAfterRestart(guard: boolean) {
    const before = new FaultyStore();
    const agent = request.agent(createTestApp({ store: before, oauth: providerOptions(as) }).app);
    await login(agent);
    const cookie = (await agent.get('/session')).request.cookies as unknown as string;
    const after = new FaultyStore();
    (after as unknown as { sessions: unknown }).sessions = (before as unknown as { sessions: unknown }).sessions;
    after.fail('get', 'hang');
    const { app } = createTestApp({ store: guard ? guardSessionStore(after, { timeoutMs: 300 }) : after, oauth: { ...providerOptions(as), httpTimeoutMs: 300 } });
    return request(app).get('/me').set('Cookie', cookie).set('Accept', 'application/json').timeout(1500);
  }

  it('should answer 503 to the first request after a restart when the store is wrapped', async () => {
    const res = await returningUserAfterRestart(true);
    expect([res.status, res.body.code]).toEqual([503, 'OAUTH_SESSION_UNAVAILABLE']);
  });

  it('should hang in express-session without it, before oauthMiddleware can install its deadline', async () => {
    await expect(returningUserAfterRestart(false)).rejects.toThrow(/Timeout of 1500ms exceeded/);
  });
});

describe('#36 store failing after the code exchange', () => {
  it('should answer 503 and revoke the tokens nobody can use', async () => {
    const store = new FaultyStore();
    const { app } = createTestApp({ store: guardSessionStore(store, { timeoutMs: 500 }), oauth: providerOptions(as) });
    const agent = request.agent(app);
    const { callbackUrl } = await authorize(agent);
    await as.clearRequests();
    store.fail('set'); // the session loads, the code is exchanged, then writing the login fails
    const res = await agent.get(pathOf(callbackUrl)).set('Accept', 'application/json');
    expect([res.status, res.body.code]).toEqual([503, 'OAUTH_SESSION_UNAVAILABLE']);
    expect((await as.requests()).map((r) => [r.endpoint, r.status])).toEqual([
      ['/token', 200],
      ['/token/revocation', 200],
      ['/token/revocation', 200],
    ]);
    store.heal();
    expect((await agent.get('/session')).body.authenticated).toBe(false);
  });
});

describe('setup mistakes', () => {
  it('should answer 500 saying to mount express-session first, and warn once, when it is mounted after oauthMiddleware', async () => {
    const express = (await import('express')).default;
    const session = (await import('express-session')).default;
    const { oauthMiddleware } = await import('express-oauth2-session');
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const app = express();
      app.use(oauthMiddleware(providerOptions(as)));
      app.use(session({ secret: 's', resave: false, saveUninitialized: false }));
      const res = await request(app).get('/login').set('Accept', 'application/json');
      expect(res.status).toBe(500);
      expect(res.text).toContain('mount express-session');
      await request(app).get('/login');
      expect(emitWarning.mock.calls.map((c) => (c[1] as { code?: string }).code)).toEqual(['OAUTH_NO_SESSION']);
    } finally {
      emitWarning.mockRestore();
    }
  });
});
