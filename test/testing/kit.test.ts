// The "Testing your app" example of docs/testing.md, verbatim between the markers (test/docs/readme.test.ts checks
// that they stay identical), plus one more check of the kit.
// README:testing-your-app:start
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { oauthMiddleware, requireAuth } from 'express-oauth2-session';
import { expireAccessToken, loginWithoutBrowser, startTestProvider, type TestProvider } from 'express-oauth2-session/testing';

let provider: TestProvider;
beforeAll(async () => {
  provider = await startTestProvider({ accessTokenTTL: 300 });
});
afterAll(() => provider.stop());

test('a logged-in user sees their profile, and an expired token is refreshed', async () => {
  const store = new session.MemoryStore();
  const app = express();
  app.use(session({ store, secret: 'test', resave: false, saveUninitialized: false }));
  app.use(oauthMiddleware(provider.providerOptions())); // redirect URI http://127.0.0.1:3000/callback
  app.get('/profile', requireAuth(), async (req, res) => res.json({ sessionId: req.sessionID, me: await (await req.oauth.get('/me')).json() }));

  const agent = request.agent(app);
  expect((await loginWithoutBrowser(agent, { user: 'alice' })).status).toBe(303);
  const first = await agent.get('/profile').expect(200);
  expect(first.body.me).toMatchObject({ sub: 'alice', name: 'Alice Example' });

  await expireAccessToken(store, first.body.sessionId);
  await agent.get('/profile').expect(200);
  expect((await provider.tokenRequests()).map((r) => r.grantType)).toEqual(['authorization_code', 'refresh_token']);
});
// README:testing-your-app:end

test('failNextTokenRequest fails exactly the next token request', async () => {
  const app = express();
  app.use(session({ secret: 'test', resave: false, saveUninitialized: false }));
  app.use(oauthMiddleware(provider.providerOptions()));
  await provider.clearRequests();
  await provider.failNextTokenRequest({ status: 500, body: { error: 'server_error' } });
  expect((await loginWithoutBrowser(request.agent(app))).status).toBe(502);
  expect((await loginWithoutBrowser(request.agent(app))).status).toBe(303);
  expect((await provider.tokenRequests()).map((r) => [r.grantType, r.status])).toEqual([['authorization_code', 200]]);
});

test('providerOptions({ clientId }) picks the client: rp-basic rotates its refresh token, rp-post keeps it', async () => {
  expect(provider.clients.map((c) => [c.id, c.method])).toEqual([
    ['rp-basic', 'client_secret_basic'],
    ['rp-post', 'client_secret_post'],
    ['svc', 'client_secret_basic'],
  ]);
  const rotated: Record<string, boolean> = {};
  for (const clientId of ['rp-basic', 'rp-post']) {
    await provider.clearRequests();
    const store = new session.MemoryStore();
    const refreshTokens: Array<string | undefined> = [];
    const app = express();
    app.use(session({ store, secret: 'test', resave: false, saveUninitialized: false }));
    app.use(oauthMiddleware({ ...provider.providerOptions({ clientId }), onTokens: ({ tokens }) => void refreshTokens.push(tokens?.refreshToken) }));
    app.get('/sid', (req, res) => res.json(req.sessionID));
    app.get('/token', async (req, res) => res.json((await req.oauth.getToken())?.expiresAt));
    const agent = request.agent(app);
    expect((await loginWithoutBrowser(agent, { user: 'bob' })).status).toBe(303);
    await expireAccessToken(store, (await agent.get('/sid')).body);
    expect((await agent.get('/token')).body).toBeGreaterThan(Date.now());
    expect((await provider.tokenRequests()).map((r) => [r.clientId, r.authMethod, r.grantType, r.status])).toEqual([
      [clientId, clientId === 'rp-post' ? 'client_secret_post' : 'client_secret_basic', 'authorization_code', 200],
      [clientId, clientId === 'rp-post' ? 'client_secret_post' : 'client_secret_basic', 'refresh_token', 200],
    ]);
    expect(refreshTokens).toHaveLength(2);
    rotated[clientId] = refreshTokens[0] !== refreshTokens[1];
  }
  expect(rotated).toEqual({ 'rp-basic': true, 'rp-post': false });
});
