import request from 'supertest';
import { startAuthorizationServer, type TestAuthorizationServer } from '../../support/authorization-server';
import { createConnectApp } from '../../support/connect-app';
import { authorize, login, pathOf } from '../../support/login-flow';
import { providerOptions, REDIRECT_URI } from '../../support/test-app';

// SPEC §1: the middleware, routes, requireAuth and the error handler use only Node's
// IncomingMessage/ServerResponse API, so they work under plain Connect (jest project "connect").
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

describe('oauthMiddleware on plain Connect', () => {
  it('should log in (302 to the AS, 303 back with a new session) and call the API through req.oauth', async () => {
    const { app } = createConnectApp({ oauth: providerOptions(as) });
    const agent = request.agent(app);
    const start = await agent.get('/login?returnTo=/me').expect(302);
    expect(new URL(start.headers.location as string).origin).toBe(new URL(as.issuer).origin);
    expect(start.headers['cache-control']).toBe('no-store');
    const { callbackUrl } = await authorize(agent);
    const back = await agent.get(pathOf(callbackUrl)).expect(303);
    expect([back.headers.location, back.headers['referrer-policy']]).toEqual(['/', 'no-referrer']);
    expect((await agent.get('/session')).body).toMatchObject({ authenticated: true, user: { sub: 'alice' } });
    const me = await agent.get('/me').set('Accept', 'application/json').expect(200);
    expect(me.body.sub).toBe('alice');
    expect((await as.tokenRequests()).map((r) => r.grantType)).toEqual(['authorization_code']);
  });

  it('should gate with requireAuth: a browser page load goes to login with returnTo, an API call gets 401 JSON', async () => {
    const { app } = createConnectApp({ oauth: providerOptions(as) });
    const page = await request(app).get('/me?x=1').set('Accept', 'text/html,application/xhtml+xml,*/*;q=0.8').expect(302);
    expect(page.headers.location).toBe('/login?returnTo=%2Fme%3Fx%3D1');
    const api = await request(app).get('/me').set('Accept', 'application/json').expect(401);
    expect(api.body).toEqual({ error: 'unauthorized', code: 'OAUTH_NOT_AUTHENTICATED' });
  });

  it('should answer a forged callback 400 with no token request, as JSON for programs and as an escaped HTML page for browsers', async () => {
    const { app } = createConnectApp({ oauth: providerOptions(as) });
    const api = await request(app).get('/callback?state=forged&code=x').set('Accept', 'application/json').expect(400);
    expect(api.body.code).toBe('OAUTH_INVALID_CALLBACK');
    const page = await request(app).get('/callback?state=<script>&code=x').set('Accept', 'text/html').expect(400);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.text).toContain('<h1>Sign-in did not complete</h1>');
    expect(page.text).toContain('<a href="/login">Try signing in again</a>');
    expect(page.text).not.toContain('<script>');
    expect(await as.tokenRequests()).toEqual([]);
  });

  it('should log out with POST /logout: 303, session cookie cleared, logged out; GET answers the confirmation form; HEAD is 405', async () => {
    const { app } = createConnectApp({ oauth: providerOptions(as) });
    const agent = request.agent(app);
    await login(agent);
    const form = await agent.get('/logout').expect(200);
    expect(form.text).toContain('<form method="post" action="/logout">');
    expect((await agent.head('/logout').expect(405)).headers.allow).toBe('POST, GET');
    const out = await agent.post('/logout').expect(303);
    expect(out.headers.location).toBe('/');
    expect(out.headers['set-cookie']).toEqual([expect.stringMatching(/^connect\.sid=; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly/)]);
    expect((await agent.get('/session')).body.authenticated).toBe(false);
  });
});
