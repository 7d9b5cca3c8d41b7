// The README's "Testing your app" example, verbatim between the markers (readme.test.ts checks
// that they stay identical), plus one more check of the kit.
// README:testing-your-app:start
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { oauthMiddleware, requireAuth } from 'express-oauth2-session';
import { expireAccessToken, loginWithoutBrowser, startTestProvider, type TestProvider } from 'express-oauth2-session/testing';

let provider: TestProvider;
beforeAll(async () => { provider = await startTestProvider({ accessTokenTTL: 300 }); });
afterAll(() => provider.stop());

test('a logged-in user sees their profile, and an expired token is refreshed', async () => {
  const store = new session.MemoryStore();
  const app = express();
  app.use(session({ store, secret: 'test', resave: false, saveUninitialized: false }));
  app.use(oauthMiddleware(provider.providerOptions()));   // redirect URI http://127.0.0.1:3000/callback
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

test('a failing token endpoint surfaces as 502 at login', async () => {
  const app = express();
  app.use(session({ secret: 'test', resave: false, saveUninitialized: false }));
  app.use(oauthMiddleware(provider.providerOptions()));
  await provider.failNext({ path: '/token', status: 500, body: { error: 'server_error' } });
  expect((await loginWithoutBrowser(request.agent(app))).status).toBe(502);
});
