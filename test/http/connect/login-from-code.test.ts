import type { IncomingMessage, ServerResponse } from 'node:http';
import request from 'supertest';
import type { OAuthMiddlewareOptions } from 'express-oauth2-session';
import { endSessionWithoutBrowser } from 'express-oauth2-session/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '../../support/authorization-server';
import { createConnectApp, type Req } from '../../support/connect-app';
import { authorize, pathOf } from '../../support/login-flow';
import { providerOptions, REDIRECT_URI } from '../../support/test-app';

// req.oauth.login and idpLogout on plain Connect (no Express request/response helpers anywhere).
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());

function app() {
  const oauth = { ...providerOptions(as, { endSessionUrl: as.endpoints.endSession, authorizationParams: { prompt: 'consent' } }), idpLogout: true } as OAuthMiddlewareOptions;
  return createConnectApp({
    oauth,
    routes: (a) =>
      a.use('/go', (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => {
        (req as Req).oauth.login(res, { returnTo: '/session?via=connect', authorizationParams: { login_hint: 'alice' }, scope: ['offline_access'] }).catch(next);
      }),
  }).app;
}

describe('req.oauth.login and idpLogout on plain Connect', () => {
  it('should start a login from code with per-login parameters and land on its returnTo', async () => {
    const agent = request.agent(app());
    const { authorizationUrl, callbackUrl } = await authorize(agent, { loginPath: '/go' });
    const params = new URL(authorizationUrl).searchParams;
    expect([params.get('scope'), params.get('prompt'), params.get('login_hint')]).toEqual(['openid profile email offline_access', 'consent', 'alice']);
    expect((await agent.get(pathOf(callbackUrl)).expect(303)).headers.location).toBe('/session?via=connect');
    expect((await agent.get('/session')).body.authenticated).toBe(true);
  });

  it('should log out at the provider (its confirmation page) and come back to returnTo', async () => {
    const agent = request.agent(app());
    const { callbackUrl, jar } = await authorize(agent, { loginPath: '/go' });
    await agent.get(pathOf(callbackUrl)).expect(303);
    const out = await agent.post('/logout?returnTo=%2Fsession').expect(303);
    expect(new URL(out.headers.location as string).origin).toBe(new URL(as.issuer).origin);
    const { redirectUrl, confirmationPage } = await endSessionWithoutBrowser(out.headers.location as string, { jar });
    expect(confirmationPage).toContain('Do you want to sign-out from');
    const landing = await agent.get(pathOf(redirectUrl)).expect(303);
    expect(landing.headers.location).toBe('/session');
    expect((await agent.get('/session')).body.authenticated).toBe(false);
  });
});
