import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { oauthErrorHandler, oauthMiddleware } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { login } from '../support/login-flow';
import { providerOptions } from '../support/test-app';

// Anonymous /login requests each create a session: one that holds only pending logins expires
// with them (10 minutes), whatever the app's cookie lifetime; the login restores the app's.
const TEN_MINUTES = 10 * 60 * 1000;
const ONE_DAY = 24 * 60 * 60 * 1000;
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer();
});
afterAll(() => as.stop());

function appWithDayLongSessions() {
  const store = new session.MemoryStore();
  const app = express();
  app.use(session({ store, secret: 'test-session-secret', resave: false, saveUninitialized: false, cookie: { maxAge: ONE_DAY } }));
  app.use(oauthMiddleware(providerOptions(as)));
  app.get('/cart', (req, res) => {
    (req.session as unknown as { cart: string[] }).cart = ['book'];
    res.end();
  });
  app.get('/session-cookie', (req, res) => res.json({ originalMaxAge: req.session.cookie.originalMaxAge, authenticated: req.oauth.isAuthenticated() }));
  app.use(oauthErrorHandler());
  const stored = () => Object.values((store as unknown as { sessions: Record<string, string> }).sessions);
  return { app, store, stored };
}

describe('lifetime of sessions that only hold a pending login', () => {
  it('should give each of 200 cookie-less /login sessions an expiry of 10 minutes, and let MemoryStore drop them after', async () => {
    const { app, store, stored } = appWithDayLongSessions();
    const before = Date.now();
    for (let i = 0; i < 200; i++) await request(app).get('/login').expect(302);
    const after = Date.now();
    const sessions = stored();
    const expiries = sessions.map((json) => Date.parse((JSON.parse(json) as { cookie: { expires: string } }).cookie.expires));
    expect(sessions).toHaveLength(200);
    expect(expiries.filter((e) => e >= before + TEN_MINUTES && e <= after + TEN_MINUTES)).toHaveLength(200);
    const sizes = new Set(sessions.map((json) => Buffer.byteLength(json)));
    expect(sizes.size).toBe(1);
    expect([...sizes][0]).toBe(305); // bytes of JSON per pending session in MemoryStore

    const realNow = Date.now.bind(Date);
    const later = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + TEN_MINUTES + 1000);
    try {
      const count = await new Promise<number>((resolve, reject) => store.length((err, n) => (err ? reject(err) : resolve(n as number))));
      expect(count).toBe(0);
    } finally {
      later.mockRestore();
    }
  });

  it("should send the 10-minute expiry in the cookie and restore the app's maxAge at login", async () => {
    const { app } = appWithDayLongSessions();
    const agent = request.agent(app);
    const start = await agent.get('/login').expect(302);
    const cookie = (start.headers['set-cookie'] as unknown as string[])[0] as string;
    const expires = Date.parse(/Expires=([^;]+)/.exec(cookie)?.[1] as string);
    expect(Math.abs(expires - (Date.now() + TEN_MINUTES))).toBeLessThan(5000);
    expect((await agent.get('/session-cookie')).body).toEqual({ originalMaxAge: TEN_MINUTES, authenticated: false });
    await login(agent);
    expect((await agent.get('/session-cookie')).body).toEqual({ originalMaxAge: ONE_DAY, authenticated: true });
  });

  it("should leave the lifetime of a session holding the app's own data", async () => {
    const { app } = appWithDayLongSessions();
    const agent = request.agent(app);
    await agent.get('/cart').expect(200);
    await agent.get('/login').expect(302);
    expect((await agent.get('/session-cookie')).body).toEqual({ originalMaxAge: ONE_DAY, authenticated: false });
  });
});
