import request from 'supertest';
import { startAuthorizationServer, type TestAuthorizationServer } from '../../support/authorization-server';
import { createConnectApp } from '../../support/connect-app';
import { cookiePair, formPostLogin, postCallback } from '../../support/form-post';
import { providerOptions, REDIRECT_URI } from '../../support/test-app';

// responseMode: 'form_post' on plain Connect: no body parser, no res.redirect; the cross-site POST
// carries only the binding cookie.
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

describe('responseMode: form_post on plain Connect', () => {
  it('should log in from the POST with its binding cookie and call the API, after refusing the same POST without it (400, no token request)', async () => {
    const { app } = createConnectApp({ oauth: providerOptions(as, { responseMode: 'form_post' }) });
    const { form, binding, callbackPath } = await formPostLogin(app, { loginPath: '/login?returnTo=/me' });
    const bare = await postCallback(app, callbackPath, form).expect(400);
    expect(bare.body.code).toBe('OAUTH_INVALID_CALLBACK');
    expect(await as.tokenRequests()).toEqual([]);
    const back = await postCallback(app, callbackPath, form, binding).expect(303);
    expect(back.headers.location).toBe('/me');
    const me = await request(app).get('/me').set('accept', 'application/json').set('cookie', cookiePair(back, 'connect.sid=')).expect(200);
    expect(me.body.sub).toBe('alice');
    expect((await as.tokenRequests()).map((r) => [r.grantType, r.status])).toEqual([['authorization_code', 200]]);
  });
});
