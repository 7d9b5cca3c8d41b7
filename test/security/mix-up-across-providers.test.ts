import request from 'supertest';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { startForwardingAs } from '../support/forwarding-as';
import { authorize, login, loginWithoutBrowser, pathOf } from '../support/login-flow';
import { createTestApp, providerOptions } from '../support/test-app';

// Two providers: "honest" (a real AS, issuer configured) and "evil", configured without `issuer`
// (as plain OAuth 2.0 providers are), whose AS forwards every login to the honest AS. The honest
// AS also has evil's callback URI registered for the honest client: the misconfiguration that
// lets its response reach evil's callback, which docs/several-providers.md warns against.
const HONEST_CB = 'http://127.0.0.1:3000/callback/honest';
const EVIL_CB = 'http://127.0.0.1:3000/callback/evil';
let honest: TestAuthorizationServer;
let evil: Awaited<ReturnType<typeof startForwardingAs>>;

beforeAll(async () => {
  honest = await startAuthorizationServer({ redirectUris: [HONEST_CB, EVIL_CB] });
  evil = await startForwardingAs(honest.endpoints.authorization, 'rp-basic');
});
afterAll(() => Promise.all([honest.stop(), evil.stop()]));
beforeEach(async () => {
  await honest.clearRequests();
  evil.tokenRequests.length = 0;
});

function twoProviderApp() {
  const { app } = createTestApp({
    oauth: {
      providers: {
        honest: providerOptions(honest, { redirectUri: HONEST_CB }) as never,
        evil: { clientId: 'evil-client', authorizationUrl: evil.authorizationUrl, tokenUrl: evil.tokenUrl, redirectUri: EVIL_CB, scope: ['openid'] },
      },
    },
  });
  return request.agent(app);
}

describe('mix-up through a provider configured without issuer', () => {
  it('should refuse a callback to evil whose iss is the honest issuer: 0 token requests to either token endpoint', async () => {
    const agent = twoProviderApp();
    const forwarded = await authorize(agent, { loginPath: '/login/evil' });
    // The evil AS sent the browser on to the honest AS with this login's state and PKCE challenge.
    const honestUrl = new URL(forwarded.callbackUrl);
    expect(honestUrl.origin + honestUrl.pathname).toBe(honest.endpoints.authorization);
    expect(honestUrl.searchParams.get('client_id')).toBe('rp-basic');
    expect(honestUrl.searchParams.get('redirect_uri')).toBe(EVIL_CB);
    const { callbackUrl, params } = await loginWithoutBrowser(honestUrl.toString(), { user: 'alice' });
    expect([new URL(callbackUrl).pathname, params.get('iss'), typeof params.get('code')]).toEqual(['/callback/evil', honest.issuer, 'string']);

    const res = await agent.get(pathOf(callbackUrl)).set('Accept', 'application/json');
    expect([res.status, res.body.code]).toEqual([400, 'OAUTH_MIX_UP']);
    expect(evil.tokenRequests).toHaveLength(0);
    expect(await honest.tokenRequests()).toEqual([]);
    expect((await agent.get('/session')).body.authenticated).toBe(false);
  });

  it('should still log in at the honest provider, whose iss matches its own issuer', async () => {
    const agent = twoProviderApp();
    await login(agent, { loginPath: '/login/honest', user: 'alice' });
    expect((await agent.get('/session')).body.authenticated).toBe(true);
    expect((await honest.tokenRequests()).map((r) => r.grantType)).toEqual(['authorization_code']);
    expect(evil.tokenRequests).toHaveLength(0);
  });

  it('should refuse at the honest provider a callback whose iss is another issuer', async () => {
    const agent = twoProviderApp();
    const { callbackUrl } = await authorize(agent, { loginPath: '/login/honest' });
    const url = new URL(callbackUrl);
    url.searchParams.set('iss', 'http://127.0.0.1:1/elsewhere');
    const res = await agent.get(pathOf(url.toString())).set('Accept', 'application/json');
    expect([res.status, res.body.code]).toEqual([400, 'OAUTH_MIX_UP']);
    expect(await honest.tokenRequests()).toEqual([]);
  });
});
