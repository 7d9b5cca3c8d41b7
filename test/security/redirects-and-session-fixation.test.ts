import session from 'express-session';
import request from 'supertest';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { authorize, login, pathOf, sessionCookie } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Checklist B (#14-#15) redirect safety and C (#16-#19) session.
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

const app = () => createTestApp({ oauth: providerOptions(as), routes: (a) => a.get('/{*rest}', (_req, res) => res.status(404).end()) });

describe('#14 open redirect via returnTo', () => {
  it.each(['//evil.com', '/\\evil.com', '/\t/evil.com', '///evil.com', 'https://evil.com', 'http:evil.com', 'javascript:alert(1)', '/.//evil.com', '/a/..//evil.com'])(
    'should land on / after logging in with returnTo=%j',
    async (target) => {
      const agent = request.agent(app().app);
      const { callbackUrl } = await authorize(agent, { loginPath: `/login?returnTo=${encodeURIComponent(target)}` });
      expect((await agent.get(pathOf(callbackUrl)).expect(303)).headers.location).toBe('/');
    },
  );

  it('should not turn a protected catch-all path into an off-site redirect (CVE-2022-24794)', async () => {
    const { requireAuth } = await import('express-oauth2-session');
    const { app: a } = createTestApp({ oauth: providerOptions(as), routes: (x) => x.get('/{*rest}', requireAuth(), (req, res) => res.json({ path: req.path })) });
    const agent = request.agent(a);
    const gate = await agent.get('//evil.com').set('Accept', 'text/html').expect(302);
    expect(gate.headers.location).toBe('/login?returnTo=%2F%2Fevil.com');
    const { callbackUrl } = await authorize(agent, { loginPath: gate.headers.location as string });
    expect((await agent.get(pathOf(callbackUrl)).expect(303)).headers.location).toBe('/');
  });

  it('should apply the same rule to logout', async () => {
    const agent = request.agent(app().app);
    await login(agent);
    expect((await agent.post('/logout?returnTo=https%3A%2F%2Fevil.com').expect(303)).headers.location).toBe('/');
  });
});

describe('#15 Host / X-Forwarded-Host injection', () => {
  it('should build redirect_uri from configuration only', async () => {
    const res = await request(app().app).get('/login').set('Host', 'evil.example').set('X-Forwarded-Host', 'evil.example').set('X-Forwarded-Proto', 'https').expect(302);
    expect(new URL(res.headers.location as string).searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
  });
});

describe('#16 session fixation', () => {
  it('should give the logged-in user a new session id and leave a planted one unauthenticated', async () => {
    const { app: shared } = app();
    const planted = sessionCookie(await request(shared).get('/login').expect(302)); // the attacker's session id...
    const start = await request(shared).get('/login').set('Cookie', planted).expect(302); // ...planted in the victim's browser
    const { authorizeWithoutBrowser } = await import('express-oauth2-session/testing');
    const back = await authorizeWithoutBrowser(start.headers.location as string);
    const fresh = sessionCookie(await request(shared).get(pathOf(back.callbackUrl)).set('Cookie', planted).expect(303));
    expect(fresh).not.toBe(planted);
    expect((await request(shared).get('/session').set('Cookie', fresh)).body.authenticated).toBe(true);
    expect((await request(shared).get('/session').set('Cookie', planted)).body.authenticated).toBe(false);
  });
});

describe('#17 pre-auth and broken sessions fail closed', () => {
  it('should treat a session holding only a login transaction as logged out', async () => {
    const agent = request.agent(app().app);
    await agent.get('/login').expect(302);
    expect((await agent.get('/me').set('Accept', 'application/json')).status).toBe(401);
  });

  it('should treat malformed stored login data as logged out, without a 500', async () => {
    const store = new session.MemoryStore();
    const { app: a } = createTestApp({ store, oauth: providerOptions(as) });
    const agent = request.agent(a);
    await login(agent);
    const sid = (await agent.get('/session')).body.sessionId as string;
    for (const bad of ['x', { p: 'x' }, { p: { default: 'x' } }, { p: { default: { at: 'yesterday' } }, tx: 5 }]) {
      const stored = await new Promise<session.SessionData>((resolve) => store.get(sid, (_e, s) => resolve(s as session.SessionData)));
      await new Promise((resolve) => store.set(sid, { ...stored, oauth: bad as never }, resolve));
      expect((await agent.get('/session').expect(200)).body.authenticated).toBe(false);
      expect((await agent.get('/me').set('Accept', 'application/json')).status).toBe(401);
      expect((await agent.get(`/callback?state=x&code=y`).set('Accept', 'application/json')).status).toBe(400);
    }
  });

  it('should send a failing discovery to the error handler (5xx), never serve the route', async () => {
    const { app: a } = createTestApp({ oauth: { ...providerOptions(as), issuer: 'http://127.0.0.1:1', authorizationUrl: undefined } as never });
    const res = await request(a).get('/login').set('Accept', 'application/json');
    expect(res.status).toBe(503);
    expect(res.headers.location).toBeUndefined();
  });
});

describe('#18 cookie attributes', () => {
  it('should warn once when the session cookie is sameSite strict (logins would fail)', async () => {
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const express = (await import('express')).default;
      const { oauthMiddleware } = await import('express-oauth2-session');
      const a = express();
      a.use(session({ secret: 's', resave: false, saveUninitialized: false, cookie: { sameSite: 'strict' } }));
      a.use(oauthMiddleware(providerOptions(as)));
      a.get('/', (_req, res) => res.end());
      await request(a).get('/');
      await request(a).get('/');
      const codes = emitWarning.mock.calls.map((call) => (call[1] as { code?: string } | undefined)?.code);
      expect(codes).toEqual(['OAUTH_COOKIE_SAMESITE']);
    } finally {
      emitWarning.mockRestore();
    }
  });
  // HttpOnly + SameSite=Lax of the example app's cookie: test/e2e/example-app-smoke.test.ts and test/e2e/example-app.test.ts.
});

describe('#19 caching of auth responses', () => {
  it('should send Cache-Control: no-store on login, callback (success and errors) and logout', async () => {
    const agent = request.agent(app().app);
    const { callbackUrl, state } = await authorize(agent);
    const responses = [await agent.get('/login'), await agent.get(`/callback?state=${state}&error=access_denied`), await agent.get('/callback?state=nope&code=x'), await agent.get('/logout')];
    const { callbackUrl: second } = await authorize(agent);
    responses.push(await agent.get(pathOf(second)), await agent.post('/logout'));
    void callbackUrl;
    expect(responses.map((r) => [r.status, r.headers['cache-control']])).toEqual([
      [302, 'no-store'],
      [403, 'no-store'],
      [400, 'no-store'],
      [200, 'no-store'],
      [303, 'no-store'],
      [303, 'no-store'],
    ]);
  });
});
