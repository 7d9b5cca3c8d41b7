import request from 'supertest';
import { isOAuthError, oauthMiddleware } from 'express-oauth2-session';
import { expireAccessToken } from 'express-oauth2-session/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { authorize, login, pathOf } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Issue 14 item 5: req.oauth.userinfo() and fetchUserInfo, against oidc-provider's UserInfo endpoint.
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

const ALICE = { sub: 'alice', name: 'Alice Example', email: 'alice@example.test', email_verified: true };
const INVALID_TOKEN = { path: '/me', status: 401, body: { error: 'invalid_token' }, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } };

/** An app whose /userinfo route answers `await req.oauth.userinfo()` (errors as `{ code, status }`). */
function userinfoApp(overrides: Record<string, unknown> = {}) {
  return createTestApp({
    oauth: providerOptions(as, overrides),
    routes: (app) =>
      app.get('/userinfo', async (req, res, next) => {
        try {
          res.json(await req.oauth.userinfo());
        } catch (err) {
          if (isOAuthError(err)) res.status(err.status).json({ code: err.code, status: err.status });
          else next(err);
        }
      }),
  });
}

describe('req.oauth.userinfo()', () => {
  it('should answer the UserInfo claims from the discovered endpoint with the access token', async () => {
    const agent = request.agent(userinfoApp().app);
    await login(agent, { user: 'alice' });
    expect((await agent.get('/userinfo').expect(200)).body).toEqual(ALICE);
  });

  it('should refresh an expired access token first', async () => {
    const { app, store } = userinfoApp();
    const agent = request.agent(app);
    await login(agent);
    await expireAccessToken(store, (await agent.get('/session')).body.sessionId);
    await as.clearRequests();
    expect((await agent.get('/userinfo').expect(200)).body).toEqual(ALICE);
    expect((await as.tokenRequests()).map((r) => [r.grantType, r.status])).toEqual([['refresh_token', 200]]);
  });

  it('should refresh once and retry on 401 invalid_token', async () => {
    const agent = request.agent(userinfoApp().app);
    await login(agent);
    await as.clearRequests();
    await as.failNext(INVALID_TOKEN);
    expect((await agent.get('/userinfo').expect(200)).body).toEqual(ALICE);
    expect((await as.tokenRequests()).map((r) => [r.grantType, r.status])).toEqual([['refresh_token', 200]]);
  });

  it('should refuse claims about another user (sub mismatch) with 502', async () => {
    const agent = request.agent(userinfoApp().app);
    await login(agent);
    await as.failNext({ path: '/me', status: 200, body: { sub: 'mallory', email: 'mallory@example.test' } });
    expect((await agent.get('/userinfo').expect(502)).body).toEqual({ code: 'OAUTH_USERINFO_ERROR', status: 502 });
  });

  it('should refuse a signed JWT response (not supported) with 502', async () => {
    const agent = request.agent(userinfoApp().app);
    await login(agent);
    await as.failNext({ path: '/me', status: 200, body: 'eyJhbGciOiJSUzI1NiJ9.e30.sig', headers: { 'content-type': 'application/jwt' } });
    expect((await agent.get('/userinfo').expect(502)).body).toEqual({ code: 'OAUTH_USERINFO_ERROR', status: 502 });
  });

  it('should answer 502 when the UserInfo endpoint fails', async () => {
    const agent = request.agent(userinfoApp().app);
    await login(agent);
    await as.failNext({ path: '/me', status: 500, body: { error: 'server_error' } });
    expect((await agent.get('/userinfo').expect(502)).body).toEqual({ code: 'OAUTH_USERINFO_ERROR', status: 502 });
  });

  it('should reject with 401 OAUTH_NOT_AUTHENTICATED when not logged in', async () => {
    const res = await request(userinfoApp().app).get('/userinfo').expect(401);
    expect(res.body).toEqual({ code: 'OAUTH_NOT_AUTHENTICATED', status: 401 });
  });

  it('should use a configured userinfoUrl outside allowedOrigins without widening the allow-list', async () => {
    const { app } = createTestApp({
      oauth: providerOptions(as, { apiBaseUrl: undefined, userinfoUrl: as.endpoints.userinfo }),
      routes: (a) =>
        a.get('/both', async (req, res) => {
          const claims = await req.oauth.userinfo();
          const direct = await req.oauth.get(as.endpoints.userinfo).then(
            () => 'sent',
            (err: { code?: string }) => err.code,
          );
          res.json({ claims, direct });
        }),
    });
    const agent = request.agent(app);
    await login(agent);
    expect((await agent.get('/both').expect(200)).body).toEqual({ claims: ALICE, direct: 'OAUTH_ORIGIN_NOT_ALLOWED' });
  });
});

describe('fetchUserInfo: true', () => {
  it('should merge the UserInfo claims into req.oauth.user at login', async () => {
    const agent = request.agent(createTestApp({ oauth: providerOptions(as, { fetchUserInfo: true }) }).app);
    await login(agent, { user: 'alice' });
    expect((await agent.get('/session')).body.user).toEqual(ALICE);
  });

  it('should fail the login with 502 and revoke the new tokens when the UserInfo sub differs', async () => {
    const agent = request.agent(createTestApp({ oauth: providerOptions(as, { fetchUserInfo: true }) }).app);
    const { callbackUrl } = await authorize(agent, { user: 'alice' });
    await as.clearRequests();
    await as.failNext({ path: '/me', status: 200, body: { sub: 'mallory', name: 'Mallory' } });
    const res = await agent.get(pathOf(callbackUrl)).expect(502);
    expect(res.body).toEqual({ error: 'OAuthError', code: 'OAUTH_USERINFO_ERROR', message: 'The sign-in service failed; try again.' });
    expect((await agent.get('/session')).body).toMatchObject({ authenticated: false, user: null });
    expect((await as.requests()).map((r) => [r.endpoint, r.grantType, r.status])).toEqual([
      ['/token', 'authorization_code', 200],
      ['/token/revocation', undefined, 200],
      ['/token/revocation', undefined, 200],
    ]);
  });

  it('should leave req.oauth.user as the ID-token claims when off (default)', async () => {
    const agent = request.agent(createTestApp({ oauth: providerOptions(as) }).app);
    await login(agent, { user: 'alice' });
    expect((await agent.get('/session')).body.user).toEqual({ sub: 'alice' });
  });

  it('should need userinfoUrl or issuer at startup', () => {
    const options = { clientId: 'c', clientSecret: 's', authorizationUrl: 'https://as.example/auth', tokenUrl: 'https://as.example/token', redirectUri: REDIRECT_URI };
    expect(() => oauthMiddleware({ ...options, fetchUserInfo: true })).toThrow(new TypeError('oauthMiddleware: `fetchUserInfo` needs `userinfoUrl`, or `issuer` to discover the UserInfo endpoint'));
    expect(() => oauthMiddleware({ ...options, fetchUserInfo: true, userinfoUrl: 'https://as.example/userinfo' })).not.toThrow();
  });
});
