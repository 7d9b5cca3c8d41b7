// The README's "Testing your app" example, run as written: a user's app tested with the shipped kit.
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

function createApp(store: session.Store) {
  const app = express();
  app.use(session({ store, secret: 'test', resave: false, saveUninitialized: false }));
  app.use(oauthMiddleware(provider.providerOptions()));
  app.get('/profile', requireAuth(), async (req, res, next) => {
    try {
      const me = await req.oauth.get('/me');
      res.json({ sessionId: req.sessionID, me: await me.json() });
    } catch (err) {
      next(err);
    }
  });
  return app;
}

test('a logged-in user sees their profile, and an expired token is refreshed', async () => {
  const store = new session.MemoryStore();
  const agent = request.agent(createApp(store));
  const callback = await loginWithoutBrowser(agent, { user: 'alice' });
  expect(callback.status).toBe(303);

  const first = await agent.get('/profile').expect(200);
  expect(first.body.me).toMatchObject({ sub: 'alice', name: 'Alice Example' });

  await expireAccessToken(store, first.body.sessionId);
  await agent.get('/profile').expect(200);
  expect((await provider.tokenRequests()).map((r) => r.grantType)).toEqual(['authorization_code', 'refresh_token']);
});

test('a failing token endpoint surfaces as 502 at login', async () => {
  const agent = request.agent(createApp(new session.MemoryStore()));
  await provider.failNext({ path: '/token', status: 500, body: { error: 'server_error' } });
  const callback = await loginWithoutBrowser(agent);
  expect(callback.status).toBe(502);
});
