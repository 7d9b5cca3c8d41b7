import session from 'express-session';
import request from 'supertest';
import type { TokenSet } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { gatedEndpoint } from '../support/gated-endpoint';
import { authorize, login, loginWithoutBrowser, pathOf } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Every piece of login state under concurrency (issue 11): a state is used once, atomically;
// regeneration drops pending logins; logout is final; no token outlives its login.
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

function storedKeys(store: session.MemoryStore): Promise<string[]> {
  return new Promise((resolve, reject) => store.all((err, all) => (err ? reject(err) : resolve(Object.keys(all ?? {}).sort()))));
}

function appWithTokens(overrides: Record<string, unknown> = {}, extra: Parameters<typeof createTestApp>[0]['routes'] = undefined) {
  const tokens: TokenSet[] = [];
  const store = new session.MemoryStore();
  const test = createTestApp({ store, oauth: providerOptions(as, { onTokens: (e: { tokens?: TokenSet }) => void (e.tokens && tokens.push(e.tokens)), ...overrides }), routes: extra });
  return { ...test, store, tokens, agent: request.agent(test.app) };
}

describe('a state is consumed at most once, atomically', () => {
  it('should redeem the code once when the same callback arrives twice at once, and leave the user logged in with a working API call', async () => {
    for (let round = 0; round < 5; round += 1) {
      await as.clearRequests();
      const { agent } = appWithTokens({ apiBaseUrl: as.issuer });
      const { callbackUrl } = await authorize(agent, { loginPath: '/login?returnTo=/home' });
      const [a, b] = await Promise.all([agent.get(pathOf(callbackUrl)), agent.get(pathOf(callbackUrl))]);
      expect([a.status, b.status]).toEqual([303, 303]);
      expect([a.headers.location, b.headers.location]).toEqual(['/home', '/home']);
      // Both responses carry the one logged-in session's cookie.
      const cookies = [a, b].map((r) => (r.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]);
      expect(cookies[0]).toBe(cookies[1]);
      expect((await as.tokenRequests()).map((r) => [r.grantType, r.status])).toEqual([['authorization_code', 200]]);
      const me = await agent.get('/me').set('Accept', 'application/json');
      expect([me.status, me.body.sub]).toEqual([200, 'alice']);
    }
  });

  it('should log in once when one state arrives with two valid codes at once: the other answers 400 and leaves no token record', async () => {
    const { agent, store } = appWithTokens();
    const { authorizationUrl, callbackUrl: first } = await authorize(agent);
    const { callbackUrl: second } = await loginWithoutBrowser(authorizationUrl, { user: 'alice' });
    expect(new URL(second).searchParams.get('state')).toBe(new URL(first).searchParams.get('state'));
    expect(new URL(second).searchParams.get('code')).not.toBe(new URL(first).searchParams.get('code'));
    const statuses = (await Promise.all([agent.get(pathOf(first)), agent.get(pathOf(second))])).map((r) => r.status).sort();
    expect(statuses).toEqual([303, 400]);
    expect((await as.tokenRequests()).map((r) => r.grantType)).toEqual(['authorization_code']);
    const sid = (await agent.get('/session')).body.sessionId as string;
    expect((await storedKeys(store)).filter((k) => k.includes(':oauth:') && !k.endsWith(':ended'))).toEqual([`${sid}:oauth:default`]);
  });

  it('should answer 400 with no token request when a completed callback is replayed later', async () => {
    const { agent } = appWithTokens();
    const { callbackUrl } = await authorize(agent);
    await agent.get(pathOf(callbackUrl)).expect(303);
    await as.clearRequests();
    await agent.get(pathOf(callbackUrl)).expect(400);
    expect(await as.tokenRequests()).toEqual([]);
  });
});

describe('regeneration at login drops every pending transaction', () => {
  it('should never redeem a transaction planted before login: its callback only sends the tab back, logged in as the victim', async () => {
    const { agent } = appWithTokens();
    const planted = await authorize(agent, { user: 'mallory', loginPath: '/login?returnTo=/planted' });
    await login(agent, { user: 'alice' });
    await as.clearRequests();
    const res = await agent.get(pathOf(planted.callbackUrl));
    expect([res.status, res.headers.location]).toEqual([303, '/planted']);
    expect(await as.tokenRequests()).toEqual([]);
    expect((await agent.get('/session')).body.user.sub).toBe('alice');
    // Single use: the same abandoned state again is a plain 400.
    await agent.get(pathOf(planted.callbackUrl)).expect(400);
  });
});

describe('logout is final', () => {
  it.each([
    ['a route that writes req.session', false],
    ['resave: true', true],
  ])('should not let a request in flight bring the login back (%s)', async (_name, resave) => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const store = new session.MemoryStore();
    const { app } = createTestApp({
      store,
      oauth: providerOptions(as),
      routes: (a) => {
        a.get('/slow', async (req, res) => {
          await gate;
          if (!resave) (req.session as unknown as Record<string, unknown>).visits = 1;
          res.json({ ok: true });
        });
      },
    });
    const wrapped = resave ? withResave(app, store) : app;
    const agent = request.agent(wrapped);
    await login(agent);
    const sid = (await agent.get('/session')).body.sessionId as string;
    const inFlight = agent.get('/slow').then((r) => r.status);
    await new Promise((r) => setTimeout(r, 50));
    await agent.post('/logout').expect(303);
    release();
    expect(await inFlight).toBe(200);
    expect((await storedKeys(store)).filter((k) => !k.endsWith(':ended'))).toEqual([]);
    expect(await storedKeys(store)).toContain(`${sid}:oauth:ended`);
    expect((await agent.get('/session')).body.authenticated).toBe(false);
  });
});

/** The same app behind an express-session with `resave: true` (every request writes the session back). */
function withResave(inner: import('express').Express, store: session.MemoryStore) {
  const express = require('express') as typeof import('express');
  const outer = express();
  outer.use(session({ store, secret: 'test-session-secret', resave: true, saveUninitialized: false }));
  outer.use(inner);
  return outer;
}

describe('no orphan tokens', () => {
  it('should revoke what a refresh received and write nothing when logout lands while the refresh is in flight', async () => {
    const gated = await gatedEndpoint(as.endpoints.token);
    const revocation = await gatedEndpoint(as.endpoints.revocation);
    try {
      const { agent, store, tokens } = appWithTokens({ tokenUrl: gated.url, revocationUrl: revocation.url }, (a) => {
        a.post('/refresh', (req, res, next) => {
          req.oauth.refresh().then(() => res.json({ ok: true }), next);
        });
      });
      await login(agent);
      const hold = gated.hold();
      const refreshing = agent.post('/refresh').set('Accept', 'application/json');
      const done = refreshing.then((r) => r);
      await hold.arrived;
      await agent.post('/logout').expect(303);
      hold.release();
      expect((await done).status).toBe(401);
      // onTokens saw only the login: the refreshed tokens never became part of a login.
      expect(tokens).toHaveLength(1);
      const refreshed = gated.answers[1] as { access_token: string; refresh_token: string };
      expect(refreshed.access_token).toEqual(expect.any(String));
      expect(refreshed.access_token).not.toBe(tokens[0]!.accessToken);
      // Logout revoked the login's tokens; the refresh, finding its login ended, revoked its own.
      expect(revocation.forms.map((f) => f.get('token'))).toEqual([tokens[0]!.refreshToken, tokens[0]!.accessToken, refreshed.refresh_token, refreshed.access_token]);
      expect(await as.introspect(refreshed.access_token)).toBe(false);
      expect((await storedKeys(store)).filter((k) => !k.endsWith(':ended'))).toEqual([]);
    } finally {
      await gated.close();
      await revocation.close();
    }
  });

  // The same user's new login in the same provider session continues the grant: see relogin-revocation.test.ts.
  it('should revoke the previous tokens when another user logs in with the same provider', async () => {
    const { agent, tokens } = appWithTokens();
    await login(agent, { user: 'alice' });
    const first = tokens[0] as TokenSet;
    expect(await as.introspect(first.refreshToken as string)).toBe(true);
    await login(agent, { user: 'bob' });
    expect(tokens).toHaveLength(2);
    expect(await as.introspect(first.accessToken)).toBe(false);
    expect(await as.introspect(first.refreshToken as string)).toBe(false);
    expect(await as.introspect(tokens[1]!.accessToken)).toBe(true);
  });
});
