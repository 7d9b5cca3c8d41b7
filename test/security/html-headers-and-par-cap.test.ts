import type express from 'express';
import request from 'supertest';
import { requireAuth } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { login } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Issue 22 item 7: every HTML page the package sends carries a CSP that allows nothing but inline
// styles, nosniff and no framing; with PAR, a session cannot make the provider push without end.

const HTML = 'text/html,application/xhtml+xml';
const CSP = "default-src 'none'; style-src 'unsafe-inline'";

let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

function expectSecurityHeaders(res: request.Response, csp = CSP) {
  expect([res.headers['content-type'], res.headers['content-security-policy'], res.headers['x-content-type-options'], res.headers['x-frame-options']]).toEqual([
    'text/html; charset=utf-8',
    csp,
    'nosniff',
    'DENY',
  ]);
}

describe('security headers on the HTML pages the package sends', () => {
  it('should send them with the error page (oauthErrorHandler)', async () => {
    const { app } = createTestApp({ oauth: providerOptions(as) });
    const res = await request(app).get('/callback?state=forged-state-0123456789&code=x').set('Accept', HTML).expect(400);
    expect(res.text).toContain('<h1>Sign-in did not complete</h1>');
    expectSecurityHeaders(res);
  });

  it('should send them with the logout form, whose form-action allows this origin (the form still posts and logs out)', async () => {
    const { app } = createTestApp({ oauth: providerOptions(as) });
    const agent = request.agent(app);
    await login(agent);
    const form = await agent.get('/logout').set('Accept', HTML).expect(200);
    expectSecurityHeaders(form, `${CSP}; form-action 'self'`);
    expect(form.text).toContain('<form method="post" action="/logout">');
    await agent.post('/logout').set('Origin', 'http://127.0.0.1:3000').expect(303);
    expect((await agent.get('/session')).body.authenticated).toBe(false);
  });

  it("should allow the provider's end-session origin in form-action with idpLogout (browsers check the redirect after the POST)", async () => {
    const { app } = createTestApp({ oauth: { ...as.providerOptions({ redirectUri: REDIRECT_URI }), idpLogout: true } });
    const form = await request(app).get('/logout').set('Accept', HTML).expect(200);
    expectSecurityHeaders(form, `${CSP}; form-action 'self' ${new URL(as.issuer).origin}`);
  });

  it('should send them with the 403 page of access rules', async () => {
    const { app } = createTestApp({
      oauth: providerOptions(as),
      routes: (a: express.Express) => a.get('/admins', requireAuth({ claims: { role: 'admin' } }), (_req, res) => res.end()),
    });
    const agent = request.agent(app);
    await login(agent);
    const res = await agent.get('/admins').set('Accept', HTML).expect(403);
    expectSecurityHeaders(res);
    // JSON answers are not pages: no page headers.
    const json = await agent.get('/admins').set('Accept', 'application/json').expect(403);
    expect(json.headers['content-security-policy']).toBeUndefined();
  });
});

describe('PAR pushes per session', () => {
  it('should push at most 10 times for a session holding 10 pending logins (429 after, no push)', async () => {
    const { app } = createTestApp({ oauth: providerOptions(as, { issuer: as.issuer, pushedAuthorizationRequests: true }) });
    const agent = request.agent(app);
    for (let i = 0; i < 10; i += 1) await agent.get('/login').expect(302);
    const refused = await agent.get('/login').set('Accept', 'application/json').expect(429);
    expect(refused.body).toEqual({
      error: 'OAuthError',
      code: 'OAUTH_TOO_MANY_LOGINS',
      message: 'Too many sign-ins were started in this session; finish one, or try again in a few minutes.',
    });
    expect((await as.requests()).filter((r) => r.endpoint === '/request')).toHaveLength(10);
    // Another session (another browser) is not affected.
    await request(app).get('/login').expect(302);
    expect((await as.requests()).filter((r) => r.endpoint === '/request')).toHaveLength(11);
  });
});
