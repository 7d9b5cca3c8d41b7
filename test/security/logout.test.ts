import request from 'supertest';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { login } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Checklist H (#37-#38), SPEC §3 logout.
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

const introspect = (token: string) => as.introspect(token);

async function loggedIn(overrides = {}) {
  const tokens: Array<{ accessToken: string; refreshToken?: string; idToken?: string }> = [];
  const { app, store } = createTestApp({ oauth: { ...providerOptions(as, overrides), onTokens: ({ tokens: t }) => void (t && tokens.push(t)) } });
  const agent = request.agent(app);
  await login(agent);
  await as.clearRequests();
  return { app, store, agent, tokens: tokens[0] as { accessToken: string; refreshToken: string; idToken: string } };
}

describe('#37 #38 POST /logout: revoke, destroy, clear; never cross-site', () => {
  it('should revoke the refresh token then the access token, destroy the session and go to returnTo', async () => {
    const { agent, tokens } = await loggedIn();
    const sid = (await agent.get('/session')).body.sessionId;
    const res = await agent.post('/logout?returnTo=%2Fbye').expect(303);
    expect(res.headers.location).toBe('/bye');
    expect(String(res.headers['set-cookie'])).toMatch(/^connect\.sid=; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect((await as.requests()).map((r) => [r.endpoint, r.status])).toEqual([
      ['/token/revocation', 200],
      ['/token/revocation', 200],
    ]);
    expect(await introspect(tokens.accessToken)).toBe(false);
    expect(await introspect(tokens.refreshToken)).toBe(false);
    const after = (await agent.get('/session')).body;
    expect(after.authenticated).toBe(false);
    expect(after.sessionId).not.toBe(sid);
  });

  it('should log out locally by default, even when the provider has an end-session endpoint', async () => {
    const { agent } = await loggedIn({ endSessionUrl: as.endpoints.endSession });
    expect((await agent.post('/logout?returnTo=%2Fbye').expect(303)).headers.location).toBe('/bye');
  });

  it('should redirect to the end-session endpoint with id_token_hint, client_id and post_logout_redirect_uri with idpLogout', async () => {
    const { agent, tokens } = await loggedIn({ endSessionUrl: as.endpoints.endSession, idpLogout: true });
    const res = await agent.post('/logout').expect(303);
    const url = new URL(res.headers.location as string);
    expect(`${url.origin}${url.pathname}`).toBe(as.endpoints.endSession);
    expect([...url.searchParams]).toEqual([
      ['id_token_hint', tokens.idToken],
      ['client_id', 'rp-basic'],
      ['post_logout_redirect_uri', 'http://127.0.0.1:3000/'],
    ]);
  });

  it('should accept a same-origin browser POST', async () => {
    const { agent } = await loggedIn();
    await agent.post('/logout').set({ origin: 'http://127.0.0.1:3000', 'sec-fetch-site': 'same-origin' }).expect(303);
    expect((await agent.get('/session')).body.authenticated).toBe(false);
  });

  it('should answer GET /logout with a confirmation form and log nobody out', async () => {
    const { agent } = await loggedIn();
    const res = await agent.get('/logout').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('<form method="post" action="/logout">');
    expect((await agent.get('/session')).body.authenticated).toBe(true);
  });

  it('should ignore an off-site returnTo', async () => {
    const { agent } = await loggedIn();
    expect((await agent.post('/logout?returnTo=%2F%2Fevil.example').expect(303)).headers.location).toBe('/');
  });
});
