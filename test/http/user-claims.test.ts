import request from 'supertest';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { login } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Issue 13 #3: req.oauth.user exposes the ID token's acr and auth_time (not only profile claims).
// (oidc-provider puts acr in the ID token when the login asked for acr_values.)
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300, acrValues: ['urn:example:loa:2'] });
});
afterAll(() => as.stop());

describe('req.oauth.user', () => {
  it('should carry the ID token acr and auth_time of the login, besides sub and profile claims', async () => {
    const { app } = createTestApp({ oauth: providerOptions(as, { authorizationParams: { max_age: '600', acr_values: 'urn:example:loa:2' } }) });
    const agent = request.agent(app);
    const before = Math.floor(Date.now() / 1000);
    await login(agent);
    const { user } = (await agent.get('/session')).body as { user: Record<string, unknown> };
    expect([user.sub, user.acr]).toEqual(['alice', 'urn:example:loa:2']);
    expect(user.auth_time).toEqual(expect.any(Number));
    expect(Math.abs((user.auth_time as number) - before)).toBeLessThanOrEqual(5);
  });
});
