import request from 'supertest';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { authorize, login, pathOf } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

describe('GET /login', () => {
  it('should redirect to the AS with state, PKCE S256, nonce and the configured scope', async () => {
    const { app } = createTestApp({ oauth: providerOptions(as) });
    const res = await request(app).get('/login').expect(302);
    expect(res.headers['cache-control']).toBe('no-store');
    const url = new URL(res.headers.location as string);
    expect(`${url.origin}${url.pathname}`).toBe(as.endpoints.authorization);
    const q = url.searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe('rp-basic');
    expect(q.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(q.get('scope')).toBe('openid profile email');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.headers['set-cookie']?.[0]).toMatch(/^connect\.sid=/);
  });
});

describe('login → callback → API call', () => {
  it('should log alice in, redirect to returnTo with 303, and call the API with her token', async () => {
    const { app } = createTestApp({ oauth: providerOptions(as) });
    const agent = request.agent(app);
    const { callbackUrl } = await authorize(agent, { loginPath: '/login?returnTo=%2Fafter%3Fx%3D1', user: 'alice' });
    const cb = await agent.get(pathOf(callbackUrl)).expect(303);
    expect(cb.headers.location).toBe('/after?x=1');
    expect(cb.headers['cache-control']).toBe('no-store');
    expect(cb.headers['referrer-policy']).toBe('no-referrer');

    const session = await agent.get('/session').expect(200);
    // oidc-provider puts only sub in the ID token by default (profile claims come from userinfo).
    expect(session.body).toEqual({ authenticated: true, user: { sub: 'alice' }, sessionId: expect.any(String) });

    const me = await agent.get('/me').expect(200);
    expect(me.body).toEqual({ sub: 'alice', name: 'Alice Example', email: 'alice@example.test', email_verified: true });
    expect((await as.tokenRequests()).map((r) => [r.grantType, r.authMethod, r.status])).toEqual([['authorization_code', 'client_secret_basic', 200]]);
  });

  it('should answer 401 JSON for API clients and 302 to login for HTML GETs when not logged in', async () => {
    const { app } = createTestApp({ oauth: providerOptions(as) });
    const json = await request(app).get('/me').set('Accept', 'application/json').expect(401);
    expect(json.body).toEqual({ error: 'unauthorized', code: 'OAUTH_NOT_AUTHENTICATED' });
    const html = await request(app).get('/me?tab=1').set('Accept', 'text/html').expect(302);
    expect(html.headers.location).toBe('/login?returnTo=%2Fme%3Ftab%3D1');
  });
});

describe('with login', () => {
  it('should log in through the shared helper', async () => {
    const { app } = createTestApp({ oauth: providerOptions(as) });
    const agent = request.agent(app);
    await login(agent, { user: 'bob' });
    expect((await agent.get('/session')).body.user.sub).toBe('bob');
  });
});
