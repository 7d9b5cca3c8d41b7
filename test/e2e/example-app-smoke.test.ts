// Smoke test of the example app users try first: createApp() with the embedded provider and API,
// one login without a browser (the browser run is test/e2e/example-app.test.ts).
import request from 'supertest';
import { loginWithoutBrowser, startTestProvider, type TestProvider } from 'express-oauth2-session/testing';
import { startExampleApi, type ExampleApi } from '../../example-app/api';
import { createApp } from '../../example-app/app';
import { realProviderFromEnv } from '../../example-app/config-from-env';

let provider: TestProvider;
let api: ExampleApi;
beforeAll(async () => {
  provider = await startTestProvider({ accessTokenTTL: 300 });
  api = await startExampleApi({ introspectionUrl: provider.endpoints.introspection, clientId: 'svc', clientSecret: 'svc-secret' });
});
afterAll(async () => {
  await api.stop();
  await provider.stop();
});

describe('example app', () => {
  it('should log in, show the profile with an API call made through req.oauth, show token status, and log out', async () => {
    const { app } = createApp({ oauth: provider.providerOptions({ apiBaseUrl: api.url }), profileApiUrl: '/api/quote', sessionSecret: 'test' });
    const agent = request.agent(app);
    expect((await agent.get('/')).text).toContain('href="/login?returnTo=%2Fprofile"');
    expect((await agent.get('/profile').set('Accept', 'text/html')).headers.location).toBe('/login?returnTo=%2Fprofile');

    const callback = await loginWithoutBrowser(agent, { user: 'carol', loginPath: '/login?returnTo=%2Fprofile' });
    expect(callback.status).toBe(303);
    expect(callback.headers.location).toBe('/profile');
    const cookie = String(callback.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);

    const profile = await agent.get('/profile').expect(200);
    expect(profile.text).toContain('<dt>sub</dt><dd>carol</dd>');
    expect(profile.text).toContain('GET /api/quote → HTTP 200');
    expect(profile.text).toContain('&quot;for&quot;: &quot;carol&quot;');

    const status = await agent.get('/status').expect(200);
    expect(status.text).toMatch(/Access token expires in<\/dt><dd>\d+ s<\/dd>/);
    expect(status.text).toContain('<dt>Refreshed (this session)</dt><dd>0</dd>');

    const logout = await agent.post('/logout').expect(303);
    expect(logout.headers.location).toMatch(new RegExp(`^${provider.endpoints.endSession}\\?id_token_hint=`));
    expect((await agent.get('/profile').set('Accept', 'text/html')).status).toBe(302);
  });

  it('should build real-provider configs from the environment', () => {
    const setup = realProviderFromEnv({ OAUTH_PROVIDER: 'github', OAUTH_CLIENT_ID: 'id', OAUTH_CLIENT_SECRET: 'secret' }, 'http://127.0.0.1:3000');
    expect(setup?.profileApiUrl).toBe('/user');
    expect(setup?.oauth).toMatchObject({ clientId: 'id', tokenUrl: 'https://github.com/login/oauth/access_token', redirectUri: 'http://127.0.0.1:3000/callback' });
    expect(realProviderFromEnv({}, 'http://127.0.0.1:3000')).toBeUndefined();
    expect(() => realProviderFromEnv({ OAUTH_PROVIDER: 'google' }, 'http://x')).toThrow('OAUTH_CLIENT_ID is required with OAUTH_PROVIDER=google');
  });
});
