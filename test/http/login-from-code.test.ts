import type { Request, Response } from 'express';
import request from 'supertest';
import type { LoginOptions, OAuthMiddlewareOptions } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { authorize, pathOf } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// req.oauth.login(res, { returnTo, authorizationParams, scope }): a login started from code shares
// the /login route's start (lib/http/start-login.ts). Plain Connect: test/http/connect/login-from-code.test.ts.
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());

/** An app whose GET /go starts a login with `options`; a rejected login answers its message as JSON. */
function appWith(options: unknown, oauth: Record<string, unknown> = {}) {
  return createTestApp({
    oauth: { ...providerOptions(as, oauth), ...oauth } as OAuthMiddlewareOptions,
    routes: (a) =>
      a.get('/go', (req: Request, res: Response) => {
        req.oauth.login(res, options as LoginOptions).catch((err: TypeError & { code?: string }) => res.status(400).json({ name: err.name, code: err.code, message: err.message }));
      }),
  }).app;
}

const paramsOf = (location: string) => Object.fromEntries([...new URL(location).searchParams].filter(([k]) => !['state', 'nonce', 'code_challenge'].includes(k)));

describe('req.oauth.login(res, options)', () => {
  it('should redirect to the AS with per-login parameters and added scopes, and land on returnTo after the callback', async () => {
    const agent = request.agent(appWith({ returnTo: '/session?from=code', authorizationParams: { access_type: 'online', audience: 'https://api.example' }, scope: 'offline_access' }));
    const { authorizationUrl, callbackUrl } = await authorize(agent, { loginPath: '/go' });
    expect(paramsOf(authorizationUrl)).toEqual({
      access_type: 'online',
      audience: 'https://api.example',
      response_type: 'code',
      client_id: 'rp-basic',
      redirect_uri: REDIRECT_URI,
      scope: 'openid profile email offline_access',
      code_challenge_method: 'S256',
    });
    const back = await agent.get(pathOf(callbackUrl)).expect(303);
    expect(back.headers.location).toBe('/session?from=code');
    expect((await agent.get('/session')).body).toMatchObject({ authenticated: true, user: { sub: 'alice' } });
  });

  it('should let per-login parameters win over the configured ones, which win over the /login query', async () => {
    const app = appWith({ authorizationParams: { access_type: 'online' } }, { authorizationParams: { access_type: 'offline', prompt: 'consent' } });
    const fromCode = await request(app).get('/go').expect(302);
    expect(paramsOf(fromCode.headers.location as string)).toMatchObject({ access_type: 'online', prompt: 'consent' });
    const fromQuery = await request(app).get('/login?prompt=login&login_hint=bob&access_type=online').expect(302);
    const params = paramsOf(fromQuery.headers.location as string);
    expect([params.prompt, params.login_hint, params.access_type]).toEqual(['consent', 'bob', 'offline']);
  });

  it('should send an off-site returnTo to postLoginRedirect, and work with the /login route disabled', async () => {
    const agent = request.agent(appWith({ returnTo: '//evil.example' }, { routes: { login: false } }));
    await agent.get('/login').expect(404);
    const { callbackUrl } = await authorize(agent, { loginPath: '/go' });
    expect((await agent.get(pathOf(callbackUrl)).expect(303)).headers.location).toBe('/');
  });

  it.each([
    [{ authorizationParams: { state: 'x' } }, 'req.oauth.login: `authorizationParams.state` is set by the package for each login and cannot be given'],
    [{ authorizationParams: { scope: 'x' } }, 'req.oauth.login: `authorizationParams.scope` is not allowed: use the `scope` option'],
    [{ authorizationParams: { prompt: 1 } }, 'req.oauth.login: `authorizationParams.prompt` must be a string'],
    [{ scope: ['a b'] }, 'req.oauth.login: `scope` must be a space-separated string or an array of scope strings'],
    [{ returnTo: 42 }, 'req.oauth.login: `returnTo` must be a string'],
  ])('should reject %j with a TypeError and start no login', async (options, message) => {
    const res = await request(appWith(options)).get('/go').expect(400);
    expect(res.body).toEqual({ name: 'TypeError', code: 'ERR_OAUTH_CONFIG', message });
    expect(res.headers['set-cookie']).toBeUndefined();
  });
});
