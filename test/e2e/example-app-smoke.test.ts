// Smoke test of the example app users try first: createApp() with the embedded provider and API,
// one login and an idpLogout without a browser (the browser run is test/e2e/example-app.test.ts).
import request from 'supertest';
import { authorizeWithoutBrowser, endSessionWithoutBrowser, type TestProvider } from 'express-oauth2-session/testing';
import { startAuthorizationServer } from '../support/authorization-server';
import { startExampleApi, type ExampleApi } from '../../example-app/api';
import { createApp } from '../../example-app/app';
import { realProviderFromEnv, responseModeFromEnv } from '../../example-app/config-from-env';
import { cookiePair, formPostLogin, postCallback } from '../support/form-post';

let provider: TestProvider;
let api: ExampleApi;
beforeAll(async () => {
  provider = await startAuthorizationServer({ accessTokenTTL: 300 });
  api = await startExampleApi({ introspectionUrl: provider.endpoints.introspection, clientId: 'svc', clientSecret: 'svc-secret' });
});
afterAll(async () => {
  await api.stop();
  await provider.stop();
});

describe('example app', () => {
  it('should log in, show the profile (name, email, an API call through req.oauth), the token countdown, and log out at the provider and back', async () => {
    const oauth = { ...provider.providerOptions({ apiBaseUrl: api.url, allowedOrigins: [api.url, provider.issuer] }), idpLogout: true };
    const { app } = createApp({ oauth, profileApiUrl: '/api/quote', userinfoUrl: provider.endpoints.userinfo, sessionSecret: 'test' });
    const agent = request.agent(app);
    const home = (await agent.get('/')).text;
    expect(home.match(/href="\/login[^"]*"/g)).toEqual(['href="/login?returnTo=%2Fprofile"']); // one login button
    expect((await agent.get('/profile').set('Accept', 'text/html')).headers.location).toBe('/login?returnTo=%2Fprofile');

    const start = await agent.get('/login?returnTo=%2Fprofile').expect(302);
    const { callbackUrl, jar } = await authorizeWithoutBrowser(start.headers.location as string, { user: 'alice' });
    const callback = await agent.get(new URL(callbackUrl).pathname + new URL(callbackUrl).search).expect(303);
    expect(callback.headers.location).toBe('/profile');
    const cookie = String(callback.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);

    const profile = await agent.get('/profile').expect(200);
    expect(profile.text).toContain('<div class="name" id="name">Alice Example</div><div id="email">alice@example.test</div>');
    // Every claim of the ID token, protocol claims included, times also as dates.
    const claims = [...profile.text.matchAll(/<tr><th>([a-z_]+)<\/th><td>/g)].map((m) => m[1]);
    expect([...claims].sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'nonce', 'sub']);
    expect(profile.text).toContain('<tr><th>sub</th><td>alice</td></tr>');
    expect(profile.text).toContain(`<tr><th>iss</th><td>${provider.issuer}</td></tr>`);
    expect(profile.text).toMatch(/<tr><th>exp<\/th><td>\d+ <span class="muted">\(\d{4}-\d\d-\d\dT[\d:.]+Z\)<\/span><\/td><\/tr>/);
    expect(profile.text).toContain('<button type="button" id="call-api" data-endpoint="/call-api">Call the API</button>');
    expect(profile.headers['content-security-policy']).toBe("default-src 'self'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'");
    expect(profile.text).not.toMatch(/<script>/); // no inline script: the CSP allows /assets/app.js only
    const script = await agent.get('/assets/app.js').expect(200);
    expect(script.headers['content-type']).toBe('application/javascript; charset=utf-8');
    expect(script.text).toContain("document.querySelectorAll('[data-countdown-ms]')");

    const call = await agent.post('/call-api').set('Accept', 'application/json').expect(200);
    expect(call.body).toEqual({
      request: { method: 'GET', url: `${api.url}/api/quote`, headers: { authorization: 'Bearer <your access token: sent by the server, never to the browser>' } },
      response: { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: { quote: expect.any(String), for: 'alice', tokenExpiresAt: expect.any(String) } },
    });
    expect((await request(app).post('/call-api').set('Accept', 'application/json').expect(401)).body).toEqual({ error: 'unauthorized', code: 'OAUTH_NOT_AUTHENTICATED' });
    expect(profile.text).toContain('GET /api/quote → HTTP 200');
    expect(profile.text).toContain('&quot;for&quot;: &quot;alice&quot;');

    const status = await agent.get('/status').expect(200);
    expect(status.text).toMatch(/Access token expires in<\/dt><dd><strong id="expires-in" data-countdown-ms="\d+">\d+ s<\/strong><\/dd>/);
    expect(status.text).toContain('<dt>Refreshed (this session)</dt><dd>0</dd>');
    expect(status.text).toMatch(/Next refresh in <strong id="refresh-countdown" data-countdown-ms="\d+" data-at-zero="reload">\d+ s<\/strong>/);

    const confirm = await agent.get('/logout').expect(200);
    expect(confirm.text).toContain('<form method="post" action="/logout?returnTo=%2F%3FsignedOut%3D1"><button type="submit">Log out</button></form>');
    const logout = await agent.post('/logout?returnTo=%2F%3FsignedOut%3D1').expect(303);
    expect(logout.headers.location).toMatch(new RegExp(`^${provider.endpoints.endSession}\\?id_token_hint=`));
    const { redirectUrl } = await endSessionWithoutBrowser(logout.headers.location as string, { jar });
    const landing = await agent.get(new URL(redirectUrl).pathname + new URL(redirectUrl).search).expect(303);
    expect(landing.headers.location).toBe('/?signedOut=1');
    expect((await agent.get('/?signedOut=1')).text).toContain('<p class="notice" id="signed-out">You are signed out. See you soon!</p>');
    expect((await agent.get('/profile').set('Accept', 'text/html')).status).toBe(302);
  });

  it('should build real-provider configs from the environment', () => {
    const setup = realProviderFromEnv({ OAUTH_PROVIDER: 'github', OAUTH_CLIENT_ID: 'id', OAUTH_CLIENT_SECRET: 'secret' }, 'http://127.0.0.1:3000');
    expect(setup?.profileApiUrl).toBe('/user');
    expect(setup?.oauth).toMatchObject({ clientId: 'id', tokenUrl: 'https://github.com/login/oauth/access_token', redirectUri: 'http://127.0.0.1:3000/callback' });
    expect(realProviderFromEnv({}, 'http://127.0.0.1:3000')).toBeUndefined();
    expect(() => realProviderFromEnv({ OAUTH_PROVIDER: 'google' }, 'http://x')).toThrow('OAUTH_CLIENT_ID is required with OAUTH_PROVIDER=google');
  });

  it('should build the Entra (multi-tenant) config and the response mode from the environment', () => {
    const entra = realProviderFromEnv({ OAUTH_PROVIDER: 'entra', OAUTH_CLIENT_ID: 'id', OAUTH_CLIENT_SECRET: 'secret', ENTRA_ALLOWED_TENANTS: 't-one, t-two' }, 'http://127.0.0.1:3000');
    expect(entra?.oauth).toMatchObject({
      issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0',
      discoveryUrl: 'https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration',
      allowedTenants: ['t-one', 't-two'],
      scope: ['openid', 'profile', 'email'],
    });
    const single = realProviderFromEnv({ OAUTH_PROVIDER: 'entra', OAUTH_CLIENT_ID: 'id', OAUTH_CLIENT_SECRET: 'secret', ENTRA_TENANT: '11111111-2222-3333-4444-555555555555' }, 'http://x');
    expect([(single?.oauth as { issuer?: string }).issuer, 'allowedTenants' in (single?.oauth ?? {})]).toEqual(['https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0', false]);
    expect([responseModeFromEnv({}), responseModeFromEnv({ OAUTH_RESPONSE_MODE: 'form_post' })]).toEqual([{}, { responseMode: 'form_post' }]);
    expect(() => responseModeFromEnv({ OAUTH_RESPONSE_MODE: 'fragment' })).toThrow('OAUTH_RESPONSE_MODE must be query or form_post (got "fragment")');
  });

  it('should log in with OAUTH_RESPONSE_MODE=form_post: the provider POSTs back with only the binding cookie, and the profile loads', async () => {
    const oauth = { ...provider.providerOptions({ apiBaseUrl: api.url, allowedOrigins: [api.url, provider.issuer] }), ...responseModeFromEnv({ OAUTH_RESPONSE_MODE: 'form_post' }) };
    const { app } = createApp({ oauth, profileApiUrl: '/api/quote', userinfoUrl: provider.endpoints.userinfo, sessionSecret: 'test' });
    const { form, binding, callbackPath } = await formPostLogin(app, { loginPath: '/login?returnTo=%2Fprofile' });
    const back = await postCallback(app, callbackPath, form, binding).expect(303);
    expect(back.headers.location).toBe('/profile');
    const profile = await request(app).get('/profile').set('cookie', cookiePair(back, 'connect.sid=')).expect(200);
    expect(profile.text).toContain('<tr><th>sub</th><td>alice</td></tr>');
  });
});
