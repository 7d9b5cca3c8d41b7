import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { oauthMiddleware } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { login } from '../support/login-flow';
import { providerOptions, REDIRECT_URI } from '../support/test-app';

// The token record lives as long as its session: express-session extends the session on every
// request; the record must follow, or a user active for longer than maxAge is logged out.
const MAX_AGE = 10 * 60 * 1000;
const SLACK = 60 * 1000;

let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 3600 });
});
afterAll(() => as.stop());
afterEach(() => jest.restoreAllMocks());

function buildApp(store: session.MemoryStore) {
  const app = express();
  app.use(session({ store, secret: 's', resave: false, saveUninitialized: false, cookie: { maxAge: MAX_AGE } }));
  app.use(oauthMiddleware(providerOptions(as)));
  app.get('/token', async (req, res, next) => {
    try {
      const token = await req.oauth.getToken();
      res.json({ authenticated: req.oauth.isAuthenticated(), hasToken: typeof token?.accessToken === 'string', sid: req.sessionID });
    } catch (err) {
      next(err);
    }
  });
  return app;
}

function storedExpiry(store: session.MemoryStore, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    store.get(key, (err, sess) => (err || !sess ? reject(err ?? new Error(`no ${key}`)) : resolve(new Date(sess.cookie.expires as unknown as string).getTime())));
  });
}

describe('token record lifetime', () => {
  it('should keep the record slack beyond the session at login', async () => {
    const store = new session.MemoryStore();
    const agent = request.agent(buildApp(store));
    await login(agent);
    const { sid } = (await agent.get('/token').expect(200)).body;
    const sessionExpiry = await storedExpiry(store, sid);
    const recordExpiry = await storedExpiry(store, `${sid}:oauth:default`);
    expect(recordExpiry - sessionExpiry).toBeGreaterThanOrEqual(SLACK - 1000);
    expect(recordExpiry - sessionExpiry).toBeLessThanOrEqual(SLACK + 1000);
  });

  it('should extend the record when the session rolls on, so the user stays logged in past the first maxAge', async () => {
    const store = new session.MemoryStore();
    const agent = request.agent(buildApp(store));
    await login(agent);
    const { sid } = (await agent.get('/token').expect(200)).body;
    const firstRecordExpiry = await storedExpiry(store, `${sid}:oauth:default`);

    const start = Date.now();
    const clock = jest.spyOn(Date, 'now');
    clock.mockImplementation(() => start + 8 * 60 * 1000); // 8 min later: inside the session, past the half-slack mark
    await agent.get('/token').expect(200);
    await new Promise((r) => setTimeout(r, 50)); // the extension is written in the background
    const extended = await storedExpiry(store, `${sid}:oauth:default`);
    expect(extended).toBeGreaterThan(firstRecordExpiry + 7 * 60 * 1000);

    clock.mockImplementation(() => start + 14 * 60 * 1000); // past the first record expiry, inside the extended one
    const later = await agent.get('/token').expect(200);
    expect(later.body).toEqual({ authenticated: true, hasToken: true, sid });
  });
});
