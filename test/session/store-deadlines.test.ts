import session from 'express-session';
import request from 'supertest';
import { SessionUnavailableError } from '../../lib/errors';
import { installStoreDeadlines } from '../../lib/session/host-patches';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { FaultyStore } from '../support/faulty-store';
import { authorize, login, pathOf } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Every store call has the httpTimeoutMs deadline and maps failures, synchronous throws
// included, to 503: built in, without guardSessionStore (issue 11).
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

const TIMEOUT_MS = 400;

function appOn(store: FaultyStore) {
  const { app } = createTestApp({ store, oauth: { ...providerOptions(as), httpTimeoutMs: TIMEOUT_MS } });
  return request.agent(app);
}

describe('store calls without guardSessionStore', () => {
  it('should answer /callback with 503 within the deadline and revoke the new tokens when the store hangs on save', async () => {
    const store = new FaultyStore();
    const agent = appOn(store);
    const { callbackUrl } = await authorize(agent);
    await as.clearRequests();
    store.fail('set', 'hang');
    const started = Date.now();
    const res = await agent.get(pathOf(callbackUrl)).set('Accept', 'application/json');
    expect([res.status, res.body.code]).toEqual([503, 'OAUTH_SESSION_UNAVAILABLE']);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS * 6);
    expect((await as.requests()).map((r) => [r.endpoint, r.status])).toEqual([
      ['/token', 200],
      ['/token/revocation', 200],
      ['/token/revocation', 200],
    ]);
  });

  it('should answer /logout with 503 when the store hangs on destroy, and log out once it is back', async () => {
    const store = new FaultyStore();
    const agent = appOn(store);
    await login(agent);
    store.fail('destroy', 'hang');
    const res = await agent.post('/logout').set('Accept', 'application/json');
    expect([res.status, res.body.code]).toEqual([503, 'OAUTH_SESSION_UNAVAILABLE']);
    store.heal();
    await agent.post('/logout').expect(303);
    expect((await agent.get('/session')).body.authenticated).toBe(false);
  });

  it('should answer 503, not a raw 500, when the store throws synchronously', async () => {
    const store = new FaultyStore();
    const agent = appOn(store);
    await agent.get('/session').expect(200); // the middleware has seen the store
    store.fail('set', 'throw');
    const res = await agent.get('/login').set('Accept', 'application/json');
    expect([res.status, res.body]).toEqual([503, { error: 'SessionUnavailableError', code: 'OAUTH_SESSION_UNAVAILABLE', message: 'The session store failed to save the session.' }]);
    expect(res.headers.location).toBeUndefined();
  });

  it("should give express-session's own session load the deadline too (503, not a hung request)", async () => {
    const store = new FaultyStore();
    const agent = appOn(store);
    await login(agent);
    store.fail('get', 'hang');
    const res = await agent.get('/session');
    expect(res.status).toBe(503);
  });
});

describe('installStoreDeadlines on an in-process MemoryStore', () => {
  const methods = ['get', 'set', 'destroy', 'touch'] as const;

  it("should leave express-session's own MemoryStore methods untouched (a map in this process cannot hang)", () => {
    const store = new session.MemoryStore();
    installStoreDeadlines(store, 50);
    expect(methods.map((m) => store[m] === session.MemoryStore.prototype[m])).toEqual([true, true, true, true]);
  });

  it('should still give a deadline to a MemoryStore method replaced on the instance, and to a subclass', async () => {
    const store = new session.MemoryStore();
    store.get = () => undefined; // never answers
    installStoreDeadlines(store, 50);
    const err = await new Promise((resolve) => store.get('sid', resolve));
    expect(err).toBeInstanceOf(SessionUnavailableError);
    expect((err as Error).message).toBe('The session store did not read the session within 50 ms.');
    const faulty = new FaultyStore();
    installStoreDeadlines(faulty, 50);
    expect(methods.map((m) => faulty[m] === FaultyStore.prototype[m])).toEqual([false, false, false, false]);
  });
});
