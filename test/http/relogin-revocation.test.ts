import request from 'supertest';
import type { OAuthMiddlewareOptions, TokenSet } from 'express-oauth2-session';
import { authorizeWithoutBrowser, type CookieJar } from 'express-oauth2-session/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { authorize, pathOf } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Logging in again with the same provider in the same session replaces that login. The same user's
// new login (step-up, incremental, a second /login) continues the same grant at the provider, and
// revoking any token of it ends the whole grant (oidc-provider does; RFC 7009 §2.1 allows it): so
// those old tokens are forgotten, not revoked. Another user's login, or the same user's login in
// another provider session (both ID tokens name their `sid`), revokes the old tokens.
let as: TestAuthorizationServer;
beforeAll(async () => {
  // rp-sid: a client whose ID tokens carry `sid` (oidc-provider adds it for back-channel logout clients).
  const rpSid = {
    client_id: 'rp-sid',
    client_secret: 'rp-sid-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [REDIRECT_URI],
    backchannel_logout_uri: 'http://127.0.0.1:9/unused',
    backchannel_logout_session_required: true,
  };
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300, extraClients: [rpSid] });
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

function app(clientId = 'rp-basic') {
  const tokens: TokenSet[] = [];
  const { app: built } = createTestApp({
    oauth: { ...providerOptions(as, { clientId }), onTokens: (e) => void (e.tokens && tokens.push(e.tokens)) } as OAuthMiddlewareOptions,
    routes: (a) => a.post('/refresh', (req, res, next) => void req.oauth.refresh().then(() => res.json({ ok: true }), next)),
  });
  return { agent: request.agent(built), tokens };
}

async function loginAgain(agent: request.Agent, user: string, jar?: CookieJar): Promise<void> {
  const start = await agent.get('/login').expect(302);
  const { callbackUrl } = await authorizeWithoutBrowser(start.headers.location as string, { user, jar });
  await agent.get(pathOf(callbackUrl)).expect(303);
}

const revocations = async () => (await as.requests()).filter((r) => r.endpoint === '/token/revocation').map((r) => r.status);

describe('a new login replacing a login of the same provider', () => {
  it('should not revoke the same subject’s old tokens (same grant): the new tokens keep working, refresh included', async () => {
    const { agent, tokens } = app();
    const { callbackUrl, jar } = await authorize(agent, { user: 'alice' });
    await agent.get(pathOf(callbackUrl)).expect(303);
    await loginAgain(agent, 'alice', jar);
    expect(await revocations()).toEqual([]);
    expect((await agent.get('/me').set('Accept', 'application/json').expect(200)).body.sub).toBe('alice');
    const [first, second] = tokens;
    expect(second!.accessToken).not.toBe(first!.accessToken);
    expect([await as.introspect(second!.accessToken), await as.introspect(second!.refreshToken!)]).toEqual([true, true]);
    // The old login is forgotten here; at the provider it shares the grant that the new one continues.
    expect(await as.introspect(first!.accessToken)).toBe(true);
    await agent.post('/refresh').set('Accept', 'application/json').expect(200);
    expect((await as.tokenRequests()).map((r) => [r.grantType, r.status])).toEqual([
      ['authorization_code', 200],
      ['authorization_code', 200],
      ['refresh_token', 200],
    ]);
  });

  it("should revoke the other subject's tokens (refresh, then access) and keep the new user's working", async () => {
    const { agent, tokens } = app();
    const { callbackUrl } = await authorize(agent, { user: 'alice' });
    await agent.get(pathOf(callbackUrl)).expect(303);
    await loginAgain(agent, 'bob');
    expect(await revocations()).toEqual([200, 200]);
    const [alice, bob] = tokens;
    expect([await as.introspect(alice!.accessToken), await as.introspect(alice!.refreshToken!)]).toEqual([false, false]);
    expect((await agent.get('/me').set('Accept', 'application/json').expect(200)).body.sub).toBe('bob');
    expect(await as.introspect(bob!.refreshToken!)).toBe(true);
  });

  it('should revoke the same subject’s tokens of another provider session (sid differs) and keep those of the same session', async () => {
    const { agent, tokens } = app('rp-sid');
    const { callbackUrl, jar } = await authorize(agent, { user: 'alice' });
    await agent.get(pathOf(callbackUrl)).expect(303);
    await loginAgain(agent, 'alice', jar);
    expect(await revocations()).toEqual([]);
    await loginAgain(agent, 'alice');
    expect(await revocations()).toEqual([200, 200]);
    const [, second, third] = tokens;
    expect([await as.introspect(second!.accessToken), await as.introspect(second!.refreshToken!)]).toEqual([false, false]);
    expect([await as.introspect(third!.accessToken), await as.introspect(third!.refreshToken!)]).toEqual([true, true]);
    expect((await agent.get('/me').set('Accept', 'application/json').expect(200)).body.sub).toBe('alice');
  });
});
