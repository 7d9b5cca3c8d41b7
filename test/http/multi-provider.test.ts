import request from 'supertest';
import { readRecord } from '../../lib/session/token-record';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { authorize, pathOf } from '../support/login-flow';
import { createTestApp, providerOptions } from '../support/test-app';

// Two authorization servers at once, one provider each (types: test/types/providers.types.ts).
const ALPHA_CB = 'http://127.0.0.1:3000/callback/alpha';
const BETA_CB = 'http://127.0.0.1:3000/callback/beta';
let alphaAs: TestAuthorizationServer;
let betaAs: TestAuthorizationServer;
beforeAll(async () => {
  [alphaAs, betaAs] = await Promise.all([startAuthorizationServer({ redirectUris: [ALPHA_CB], accessTokenTTL: 300 }), startAuthorizationServer({ redirectUris: [BETA_CB], accessTokenTTL: 300 })]);
});
afterAll(() => Promise.all([alphaAs.stop(), betaAs.stop()]));
beforeEach(() => Promise.all([alphaAs.clearRequests(), betaAs.clearRequests()]));

function app() {
  const tokens: Record<string, string[]> = { alpha: [], beta: [] };
  const test = createTestApp({
    oauth: {
      providers: {
        alpha: providerOptions(alphaAs, { redirectUri: ALPHA_CB }) as never,
        beta: providerOptions(betaAs, { redirectUri: BETA_CB }) as never,
      },
      onTokens: (e) => void (e.tokens && tokens[e.provider]?.push(e.tokens.accessToken)),
    },
    routes: (a) =>
      a.get('/both', async (req, res, next) => {
        try {
          const [x, y] = await Promise.all([req.oauth.alpha.get('/me'), req.oauth.beta.get('/me')]);
          res.json({ alpha: await x.json(), beta: await y.json(), same: req.oauth.provider('beta') === req.oauth.beta });
        } catch (err) {
          next(err);
        }
      }),
  });
  return { ...test, tokens, agent: request.agent(test.app) };
}

describe('several providers', () => {
  it('should log in to each provider separately, keep both logins, and call each API with its own token', async () => {
    const { agent, store, tokens } = app();
    const a = await authorize(agent, { loginPath: '/login/alpha', user: 'alice' });
    expect(a.authorizationUrl.startsWith(alphaAs.endpoints.authorization)).toBe(true);
    await agent.get(pathOf(a.callbackUrl)).expect(303);
    const firstSid = (await agent.get('/session')).body.sessionId as string;
    const b = await authorize(agent, { loginPath: '/login/beta', user: 'bob' });
    expect(b.authorizationUrl.startsWith(betaAs.endpoints.authorization)).toBe(true);
    await agent.get(pathOf(b.callbackUrl)).expect(303); // regenerates the session: alpha's login must survive

    const both = await agent.get('/both').expect(200);
    expect([both.body.alpha.sub, both.body.beta.sub, both.body.same]).toEqual(['alice', 'bob', true]);
    const sid = (await agent.get('/session')).body.sessionId as string;
    expect(sid).not.toBe(firstSid);
    const records = await Promise.all([`${sid}:oauth:alpha`, `${sid}:oauth:beta`, `${firstSid}:oauth:alpha`].map((k) => readRecord(store, k, 2000)));
    expect(records.map((r) => r?.tokens.accessToken)).toEqual([tokens.alpha?.[0], tokens.beta?.[0], undefined]);
    expect((await alphaAs.tokenRequests()).map((r) => r.grantType)).toEqual(['authorization_code']);
    expect((await betaAs.tokenRequests()).map((r) => r.grantType)).toEqual(['authorization_code']);

    await agent.post('/logout').expect(303);
    expect((await alphaAs.requests()).filter((r) => r.endpoint === '/token/revocation')).toHaveLength(2);
    expect((await betaAs.requests()).filter((r) => r.endpoint === '/token/revocation')).toHaveLength(2);
  });

  it("should check a callback only against its own provider's transactions (zero token requests at both)", async () => {
    const { agent } = app();
    const a = await authorize(agent, { loginPath: '/login/alpha' });
    const params = new URL(a.callbackUrl).searchParams;
    const res = await agent.get(`/callback/beta?${params.toString()}`).set('Accept', 'application/json');
    expect(res.status).toBe(400);
    expect(await alphaAs.tokenRequests()).toEqual([]);
    expect(await betaAs.tokenRequests()).toEqual([]);
  });

  it('should refuse a provider name that shadows a req.oauth member', async () => {
    const { oauthMiddleware } = await import('express-oauth2-session');
    expect(() => oauthMiddleware({ providers: { user: providerOptions(alphaAs, { redirectUri: ALPHA_CB }) as never } })).toThrow(
      'oauthMiddleware: `providers.user` name is taken by a req.oauth member; choose another',
    );
  });
});
