import { decodeJwt } from 'jose';
import request from 'supertest';
import { oauthMiddleware } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { pathOf, loginWithoutBrowser } from '../support/login-flow';
import { createTestApp, providerOptions } from '../support/test-app';

// A login link may fill authorization parameters the app leaves open, never override the app's
// (step-up: prompt, max_age, acr_values); a max_age sent is enforced on the ID token's auth_time.
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer();
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

function appWith(authorizationParams: Record<string, string> = {}) {
  const idTokens: string[] = [];
  const { app } = createTestApp({ oauth: { ...providerOptions(as, { authorizationParams }), onTokens: (e) => void (e.tokens?.idToken && idTokens.push(e.tokens.idToken)) } });
  return { agent: request.agent(app), idTokens };
}

async function authorizeParams(agent: request.Agent, query: string) {
  const res = await agent.get(`/login${query}`).expect(302);
  return { location: res.headers.location as string, params: new URL(res.headers.location as string).searchParams };
}

describe('configured authorization parameters win over the login link', () => {
  it('should keep the configured prompt, max_age and acr_values and pass through only unset names', async () => {
    const { agent } = appWith({ prompt: 'login', max_age: '0', acr_values: 'urn:example:gold' });
    const { params } = await authorizeParams(agent, '?prompt=none&max_age=999999999&acr_values=weak&login_hint=bob&ui_locales=de');
    const sent = ['prompt', 'max_age', 'acr_values', 'login_hint', 'ui_locales'].map((k) => params.getAll(k));
    expect(sent).toEqual([['login'], ['0'], ['urn:example:gold'], ['bob'], ['de']]);
  });

  it('should drop a login-link max_age that is not whole seconds', async () => {
    const { agent } = appWith();
    const { params } = await authorizeParams(agent, '?max_age=-1&prompt=login');
    expect([params.getAll('max_age'), params.getAll('prompt')]).toEqual([[], ['login']]);
  });

  it('should refuse a configured max_age that is not whole seconds at startup', () => {
    expect(() => oauthMiddleware(providerOptions(as, { authorizationParams: { max_age: '1h' } }))).toThrow('oauthMiddleware: `authorizationParams.max_age` must be a whole number of seconds');
  });
});

describe('max_age and auth_time', () => {
  it('should log in when auth_time is within max_age and expose auth_time in req.oauth.user', async () => {
    const { agent, idTokens } = appWith();
    const { location, params } = await authorizeParams(agent, '?max_age=300');
    expect(params.get('max_age')).toBe('300');
    const { callbackUrl } = await loginWithoutBrowser(location, { user: 'carol' });
    await agent.get(pathOf(callbackUrl)).expect(303);
    const claims = decodeJwt(idTokens[0] as string);
    expect(typeof claims.auth_time).toBe('number');
    const { user } = (await agent.get('/session')).body;
    expect([user.sub, user.auth_time]).toEqual(['carol', claims.auth_time]);
  });

  it('should refuse the login (502) when the user authenticated longer ago than max_age allows', async () => {
    const { agent } = appWith({ max_age: '0' });
    const { location } = await authorizeParams(agent, '');
    const { callbackUrl } = await loginWithoutBrowser(location, { user: 'carol' });
    const realNow = Date.now.bind(Date);
    const later = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 60_000);
    try {
      const res = await agent.get(pathOf(callbackUrl)).set('Accept', 'application/json');
      expect([res.status, res.body.code]).toEqual([502, 'OAUTH_ID_TOKEN_INVALID']);
    } finally {
      later.mockRestore();
    }
    expect((await agent.get('/session')).body.authenticated).toBe(false);
  });
});
