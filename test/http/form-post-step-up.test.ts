import type express from 'express';
import request from 'supertest';
import { requireAuth } from 'express-oauth2-session';
import { authorizeWithoutBrowser } from 'express-oauth2-session/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { cookiePair, formPostLogin, postCallback } from '../support/form-post';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// requireAuth's step-up with responseMode: 'form_post' (issue 24): the second login of a session
// also comes back as a cross-site POST that carries only its binding cookie, and it must land in
// the session that asked for it (the user stays logged in, now with the extra scope).
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300, scopes: ['api:write'] });
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

const HTML = 'text/html,application/xhtml+xml,*/*;q=0.8';

it('should step up through form_post: the guarded page asks for the union of scopes with response_mode=form_post, and the POST back completes it in the same login', async () => {
  const { app } = createTestApp({
    oauth: providerOptions(as, { responseMode: 'form_post' }),
    routes: (a: express.Express) => a.get('/guarded', requireAuth({ scopes: ['api:write'] }), (req, res) => res.json({ ok: true, user: req.oauth.user })),
  });
  const login = await formPostLogin(app, { user: 'alice' });
  const session = cookiePair(await postCallback(app, login.callbackPath, login.form, login.binding).expect(303), 'connect.sid=');
  expect((await request(app).get('/session').set('cookie', session)).body).toMatchObject({ authenticated: true, user: { sub: 'alice' } });

  const start = await request(app).get('/guarded').set('cookie', session).set('accept', HTML).expect(302);
  const authorizationUrl = new URL(start.headers.location as string);
  expect([authorizationUrl.searchParams.get('response_mode'), authorizationUrl.searchParams.get('scope')]).toEqual(['form_post', 'openid profile email api:write']);
  const binding = cookiePair(start, 'oauth.fp.');
  const answer = await authorizeWithoutBrowser(authorizationUrl.toString(), { user: 'alice' });
  expect(answer.method).toBe('POST');

  // The cross-site POST carries only the binding cookie; it goes back to the guarded page.
  const back = await postCallback(app, new URL(answer.callbackUrl).pathname, answer.params, binding).expect(303);
  expect(back.headers.location).toBe('/guarded');
  const stepped = cookiePair(back, 'connect.sid=');
  expect((await request(app).get('/guarded').set('cookie', stepped).set('accept', HTML).expect(200)).body).toEqual({ ok: true, user: { sub: 'alice' } });
  expect((await as.tokenRequests('authorization_code')).length).toBe(2);
});
