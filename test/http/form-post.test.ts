import request from 'supertest';
import { CookieJar, loginWithoutBrowser } from 'express-oauth2-session/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { cookiePair, formPostLogin, postCallback, setCookies } from '../support/form-post';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// responseMode: 'form_post' against the real AS (oidc-provider renders its auto-submitting form):
// the callback is a POST that carries only the login's binding cookie, as a browser's cross-site
// POST does (the SameSite=Lax session cookie stays behind). Runs on Express 5 and Express 4.
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

const formPostApp = () => createTestApp({ oauth: providerOptions(as, { responseMode: 'form_post' }) });
const codeRequests = async () => (await as.tokenRequests('authorization_code')).length;

describe('responseMode: form_post', () => {
  it('should ask for response_mode=form_post and set a SameSite=None; Secure; HttpOnly binding cookie on the callback path for 10 minutes', async () => {
    const { app } = formPostApp();
    const start = await request(app).get('/login').expect(302);
    const url = new URL(start.headers.location as string);
    expect([url.searchParams.get('response_mode'), url.searchParams.get('response_type')]).toEqual(['form_post', 'code']);
    const binding = setCookies(start).find((c) => c.startsWith('oauth.fp.'));
    expect(binding).toMatch(/^oauth\.fp\.[A-Za-z0-9_-]{16}=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}; Path=\/callback; Max-Age=600; HttpOnly; Secure; SameSite=None$/);
    expect(binding).not.toContain(url.searchParams.get('state'));
  });

  it('should log in from the cross-site POST that carries only the binding cookie: 303 to returnTo, a new session cookie, the binding cookie cleared, one code exchange', async () => {
    const { app } = formPostApp();
    const { form, binding, session, callbackPath } = await formPostLogin(app, { loginPath: '/login?returnTo=%2Fafter' });
    expect([callbackPath, [...form.keys()].sort()]).toEqual(['/callback', ['code', 'iss', 'state']]);
    const back = await postCallback(app, callbackPath, form, binding).expect(303);
    expect([back.headers.location, back.headers['cache-control'], back.headers['referrer-policy']]).toEqual(['/after', 'no-store', 'no-referrer']);
    const cleared = setCookies(back).find((c) => c.startsWith(`${binding.split('=')[0]}=`));
    expect(cleared).toBe(`${binding.split('=')[0]}=; Path=/callback; Max-Age=0; HttpOnly; Secure; SameSite=None`);
    const fresh = cookiePair(back, 'connect.sid=');
    expect(fresh).not.toBe(session);
    const probe = await request(app).get('/session').set('cookie', fresh).expect(200);
    expect(probe.body).toEqual({ authenticated: true, user: { sub: 'alice' }, sessionId: expect.any(String) });
    // The pre-login session (the one the binding named) is over: it logs nobody in.
    expect((await request(app).get('/session').set('cookie', session)).body.authenticated).toBe(false);
    expect((await as.tokenRequests()).map((r) => [r.grantType, r.status])).toEqual([['authorization_code', 200]]);
  });

  it('should refuse a POST without the binding cookie with 400 and no token request, and leave the login usable by its own browser', async () => {
    const { app } = formPostApp();
    const { form, binding, session, callbackPath } = await formPostLogin(app);
    const bare = await postCallback(app, callbackPath, form).expect(400);
    expect(bare.body.code).toBe('OAUTH_INVALID_CALLBACK');
    // The Lax session cookie alone (a same-site POST, or an attacker holding it) is not a binding either.
    expect((await postCallback(app, callbackPath, form, session).expect(400)).body.code).toBe('OAUTH_INVALID_CALLBACK');
    expect(await codeRequests()).toBe(0);
    await postCallback(app, callbackPath, form, binding).expect(303);
    expect(await codeRequests()).toBe(1);
  });

  it('should refuse a forged binding (right session, wrong binding value; garbage; another login’s binding) with 400 and no token request', async () => {
    const { app } = formPostApp();
    const { form, binding, callbackPath } = await formPostLogin(app);
    const other = await formPostLogin(app, { user: 'bob' });
    const [name, value] = binding.split('=') as [string, string];
    const [sessionPart] = value.split('.') as [string, string];
    const forged = [
      `${name}=${sessionPart}.${'A'.repeat(22)}`,
      `${name}=garbage`,
      `${name}=${Buffer.from('no-such-session').toString('base64url')}.${value.split('.')[1]}`,
      other.binding,
      `${name}=${other.binding.split('=')[1]}`,
      `${binding}; ${binding}`,
    ];
    for (const cookie of forged) {
      const res = await postCallback(app, callbackPath, form, cookie);
      expect([cookie, res.status, res.body.code, setCookies(res).some((c) => c.startsWith('connect.sid='))]).toEqual([cookie, 400, 'OAUTH_INVALID_CALLBACK', false]);
    }
    expect(await codeRequests()).toBe(0);
    await postCallback(app, callbackPath, form, binding).expect(303);
    await postCallback(app, other.callbackPath, other.form, other.binding).expect(303);
    expect(await codeRequests()).toBe(2);
  });

  it('should refuse a replay of a completed POST (400, still one code exchange) and a GET callback carrying the code (400, nothing claimed)', async () => {
    const { app } = formPostApp();
    const { form, binding, callbackPath } = await formPostLogin(app);
    const asQuery = await request(app).get(`${callbackPath}?${form.toString()}`).set('accept', 'application/json').expect(400);
    expect(asQuery.body.code).toBe('OAUTH_INVALID_CALLBACK');
    await postCallback(app, callbackPath, form, binding).expect(303);
    expect((await postCallback(app, callbackPath, form, binding).expect(400)).body.code).toBe('OAUTH_INVALID_CALLBACK');
    expect(await codeRequests()).toBe(1);
  });

  it('should refuse bodies that are not a small form: wrong type, over 16 KiB, a second state', async () => {
    const { app } = formPostApp();
    const { form, binding, callbackPath } = await formPostLogin(app);
    const json = await request(app)
      .post(callbackPath)
      .set('accept', 'application/json')
      .set('cookie', binding)
      .send({ code: form.get('code'), state: form.get('state') });
    expect([json.status, json.body.code]).toEqual([400, 'OAUTH_INVALID_CALLBACK']);
    const big = new URLSearchParams(form);
    big.set('padding', 'x'.repeat(17 * 1024));
    const tooBig = await postCallback(app, callbackPath, big, binding);
    expect([tooBig.status, tooBig.body.code]).toEqual([400, 'OAUTH_INVALID_CALLBACK']);
    const twice = new URLSearchParams(form);
    twice.append('state', 'other');
    expect((await postCallback(app, callbackPath, twice, binding)).status).toBe(400);
    expect(await codeRequests()).toBe(0);
  });

  it('should work behind a body parser that already read the form (express.urlencoded)', async () => {
    const express = (await import('express')).default;
    const { app } = createTestApp({ oauth: providerOptions(as, { responseMode: 'form_post' }) });
    const outer = express();
    outer.use(express.urlencoded({ extended: false }));
    outer.use(app);
    const { form, binding, callbackPath } = await formPostLogin(outer);
    await postCallback(outer, callbackPath, form, binding).expect(303);
    expect(await codeRequests()).toBe(1);
  });

  it('should let the test kit log in with form_post through a supertest agent', async () => {
    const { app } = formPostApp();
    const agent = request.agent(app);
    const back = await loginWithoutBrowser(agent, { user: 'bob', jar: new CookieJar() });
    expect(back.status).toBe(303);
    expect((await agent.get('/session')).body).toMatchObject({ authenticated: true, user: { sub: 'bob' } });
  });
});

describe('responseMode config', () => {
  const base = () => as.providerOptions({ endSessionUrl: undefined, redirectUri: REDIRECT_URI });
  it.each([
    [{ responseMode: 'fragment' }, 'oauthMiddleware: `responseMode` must be one of "query", "form_post"'],
    [{ responseMode: 'form_post', redirectUri: 'http://app.example/callback' }, 'oauthMiddleware: `responseMode` "form_post" needs an https `redirectUri`'],
    [{ authorizationParams: { response_mode: 'form_post' } }, 'oauthMiddleware: `authorizationParams.response_mode` is set by the package: use the `responseMode` option'],
  ])('should refuse %j at startup', (overrides, message) => {
    expect(() => createTestApp({ oauth: { ...base(), ...overrides } as never })).toThrow(message);
  });

  it('should accept form_post with an https redirect URI and with a loopback http one', () => {
    expect(() => createTestApp({ oauth: { ...base(), responseMode: 'form_post', redirectUri: 'https://app.example/callback' } })).not.toThrow();
    expect(() => createTestApp({ oauth: { ...base(), responseMode: 'form_post', redirectUri: 'http://localhost:3000/callback' } })).not.toThrow();
  });
});
