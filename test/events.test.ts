import session from 'express-session';
import request from 'supertest';
import type { TokenSet } from 'express-oauth2-session';
import { expireAccessToken } from 'express-oauth2-session/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from './support/authorization-server';
import { login } from './support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from './support/test-app';

// Typed lifecycle events for metrics: what happened, for which provider; never a token value.
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());

it('should emit login, refresh (refreshed, joined), logout and error events with redacted payloads', async () => {
  const store = new session.MemoryStore();
  const tokens: string[] = [];
  let failHook = false;
  const { app, oauth } = createTestApp({
    store,
    oauth: {
      ...providerOptions(as),
      onTokens: ({ tokens: t }: { tokens?: Readonly<TokenSet> }) => {
        if (t) tokens.push(t.accessToken, t.refreshToken ?? '', t.idToken ?? '');
        if (failHook) throw new Error('metrics database down');
      },
    },
  });
  const events: Array<[string, unknown]> = [];
  for (const name of ['login', 'refresh', 'refresh-race-lost', 'logout', 'error'] as const) oauth.events.on(name, (payload: unknown) => void events.push([name, payload]));

  const agent = request.agent(app);
  await login(agent, { user: 'carol' });
  const sid = (await agent.get('/session')).body.sessionId as string;
  await expireAccessToken(store, sid);
  failHook = true; // a failing hook is reported, the refresh still counts
  await Promise.all([agent.get('/me').expect(200), agent.get('/me').expect(200)]);
  failHook = false;
  await agent.post('/logout').expect(303);

  const names = events.map(
    ([name, payload]) => `${name}:${(payload as { outcome?: string; reason?: string; code?: string }).outcome ?? (payload as { reason?: string }).reason ?? (payload as { code?: string }).code ?? ''}`,
  );
  expect(names).toEqual(['login:', 'refresh:joined', 'refresh:refreshed', 'error:OAUTH_HOOK_FAILED', 'logout:user']);
  expect(events[0]).toEqual(['login', { provider: 'default', sub: 'carol' }]);
  expect((events[2]?.[1] as { tokenId: string }).tokenId).toMatch(/^[0-9a-f]{6}$/);
  const shown = JSON.stringify(events);
  for (const t of tokens.filter(Boolean)) expect(shown.includes(t)).toBe(false);
});
