import request from 'supertest';
import { providers, type TokenSet } from 'express-oauth2-session';
import { expireAccessToken } from 'express-oauth2-session/testing';
import { pointAt, startFakeProvider, type FakeProvider } from '../support/fake-providers/fake-provider';
import { GITHUB_TOKEN, githubWire } from '../support/fake-providers/github';
import { GOOGLE_REFRESH_TOKEN, googleWire } from '../support/fake-providers/google';
import { login } from '../support/login-flow';
import { createTestApp, REDIRECT_URI } from '../support/test-app';

// GitHub, Google and Battle.net presets against local servers that speak each provider's wire
// format (Stack Exchange: stackexchange.test.ts). The preset is spread, then only hosts change.
const client = { clientId: 'app-id', clientSecret: 'app-secret', redirectUri: REDIRECT_URI };
let fake: FakeProvider | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

function appFor(oauth: object) {
  const tokens: Array<Readonly<TokenSet> | undefined> = [];
  const test = createTestApp({
    oauth: { ...oauth, onTokens: (e: { tokens?: Readonly<TokenSet> }) => void tokens.push(e.tokens) } as never,
    routes: (a) =>
      a.get('/api', async (req, res, next) => {
        try {
          const r = await req.oauth.get(String(req.query.path ?? '/user'));
          res
            .status(r.status)
            .type(r.headers.get('content-type') ?? 'json')
            .send(await r.text());
        } catch (err) {
          next(err);
        }
      }),
  });
  return { ...test, tokens, agent: request.agent(test.app) };
}

/** GET /login, then the callback with a code of our choosing (a bad one never came from /authorize). */
async function callbackWithCode(agent: ReturnType<typeof request.agent>, code: string) {
  const start = await agent.get('/login').expect(302);
  const state = new URL(start.headers.location as string).searchParams.get('state');
  return agent.get(`/callback?state=${state}&code=${code}`).set('Accept', 'application/json');
}

describe('providers.github()', () => {
  it('should post client credentials in the body asking for JSON, keep a non-expiring token unrefreshed, and send User-Agent + Accept to the API', async () => {
    fake = await startFakeProvider(githubWire(client));
    const { agent, tokens } = appFor({ ...providers.github(), ...pointAt(fake), ...client, scope: ['read:user'], refreshLeewaySeconds: 10 ** 6 });
    await login(agent);
    expect(JSON.parse((await agent.get('/api').expect(200)).text)).toEqual({ login: 'octocat', id: 583231, type: 'User' });
    await agent.get('/api').expect(200);

    const [exchange, ...more] = fake.tokenRequests();
    expect(more).toEqual([]);
    expect([exchange?.headers.accept, exchange?.headers.authorization, exchange?.form.get('client_id'), exchange?.form.get('client_secret'), exchange?.form.get('grant_type')]).toEqual([
      'application/json',
      undefined,
      'app-id',
      'app-secret',
      'authorization_code',
    ]);
    expect(tokens).toEqual([{ accessToken: GITHUB_TOKEN, tokenType: 'bearer', scope: 'read:user' }]); // no expiresAt: never refreshed proactively
    expect(fake.apiRequests().map((r) => [r.path, r.headers['user-agent'], r.headers.accept])).toEqual([
      ['/user', 'express-oauth2-session', 'application/vnd.github+json'],
      ['/user', 'express-oauth2-session', 'application/vnd.github+json'],
    ]);
  });

  it('should parse the form-encoded token answer GitHub gives by default', async () => {
    fake = await startFakeProvider(githubWire(client, { ignoreAccept: true }));
    const { agent, tokens } = appFor({ ...providers.github(), ...pointAt(fake), ...client });
    await login(agent);
    expect(tokens).toEqual([{ accessToken: GITHUB_TOKEN, tokenType: 'bearer', scope: 'read:user' }]);
    expect((await agent.get('/api').expect(200)).text).toContain('octocat');
  });

  it.each([
    ['bad_verification_code (HTTP 200) as a failed login: 400', 'code-77', client, 400],
    ['incorrect_client_credentials (HTTP 200) as an operator error: 500', 'code-1', { ...client, clientSecret: 'wrong' }, 500],
  ])('should treat %s, JSON or form', async (_name, code, creds, status) => {
    for (const ignoreAccept of [false, true]) {
      fake = await startFakeProvider(githubWire(client, { ignoreAccept }));
      const { agent } = appFor({ ...providers.github(), ...pointAt(fake), ...creds });
      const res = await callbackWithCode(agent, code);
      expect([res.status, res.body.code]).toEqual([status, 'OAUTH_TOKEN_ENDPOINT_ERROR']);
      expect((await agent.get('/session')).body.authenticated).toBe(false);
      expect(fake.tokenRequests()).toHaveLength(1);
      await fake.stop();
      fake = undefined;
    }
  });

  it("should be refused by the API without the preset's User-Agent (the fake enforces what GitHub does)", async () => {
    fake = await startFakeProvider(githubWire(client));
    const { agent } = appFor({ ...providers.github(), ...pointAt(fake), ...client, apiHeaders: {} });
    await login(agent);
    const res = await agent.get('/api').expect(403);
    expect(res.text).toMatch(/^Request forbidden by administrative rules\. Please make sure your request has a User-Agent header/);
  });
});

describe('providers.google()', () => {
  it('should ask for offline access with consent and keep the refresh token Google omits on refresh', async () => {
    fake = await startFakeProvider(googleWire());
    const { agent, store, tokens } = appFor({ ...providers.google(), ...pointAt(fake), ...client, scope: ['openid'] });
    const start = await agent.get('/login').expect(302);
    const authorize = new URL(start.headers.location as string).searchParams;
    expect([authorize.get('access_type'), authorize.get('prompt')]).toEqual(['offline', 'consent']);
    await login(agent);
    const sid = (await agent.get('/session')).body.sessionId as string;
    for (let i = 0; i < 2; i += 1) {
      await expireAccessToken(store as never, sid);
      expect(JSON.parse((await agent.get('/api?path=/oauth2/v3/userinfo').expect(200)).text).auth).toBe(`Bearer ya29.a0-${i + 2}`);
    }
    expect(tokens.map((t) => [t?.accessToken, t?.refreshToken])).toEqual([
      ['ya29.a0-1', GOOGLE_REFRESH_TOKEN],
      ['ya29.a0-2', GOOGLE_REFRESH_TOKEN],
      ['ya29.a0-3', GOOGLE_REFRESH_TOKEN],
    ]);
    expect(fake.tokenRequests().map((r) => [r.form.get('grant_type'), r.form.get('refresh_token')])).toEqual([
      ['authorization_code', null],
      ['refresh_token', GOOGLE_REFRESH_TOKEN],
      ['refresh_token', GOOGLE_REFRESH_TOKEN],
    ]);
  });
});

describe('presets that carry their endpoints start with no network call', () => {
  it.each([
    ['google()', providers.google(), 'https://accounts.google.com/o/oauth2/v2/auth'],
    ['battlenet({ region: "eu" })', providers.battlenet({ region: 'eu' }), 'https://oauth.battle.net/authorize'],
    ['battlenet({ region: "cn" })', providers.battlenet({ region: 'cn' }), 'https://oauth.battlenet.com.cn/authorize'],
  ])('should send %s users to the authorize endpoint without discovery', async (_name, preset, authorizeUrl) => {
    const discovery = jest.fn(() => Promise.reject(new Error('no network in this test')));
    const { app } = createTestApp({ oauth: { ...preset, ...client, scope: ['openid'], fetch: discovery } });
    const res = await request(app).get('/login').expect(302);
    expect((res.headers.location as string).split('?')[0]).toBe(authorizeUrl);
    expect(discovery).not.toHaveBeenCalled();
  });
});

describe('providers.battlenet({ region })', () => {
  it.each([
    ['us', 'https://oauth.battle.net', 'https://us.api.blizzard.com'],
    ['eu', 'https://oauth.battle.net', 'https://eu.api.blizzard.com'],
    ['kr', 'https://oauth.battle.net', 'https://kr.api.blizzard.com'],
    ['tw', 'https://oauth.battle.net', 'https://tw.api.blizzard.com'],
  ] as const)('should point region %s at the global OAuth host (an OpenID provider) and its API host', (region, host, apiBaseUrl) => {
    expect(providers.battlenet({ region })).toEqual({
      issuer: host,
      jwksUri: `${host}/jwks/certs`,
      revocationUrl: `${host}/revoke`,
      userinfoUrl: `${host}/userinfo`,
      authorizationUrl: `${host}/authorize`,
      tokenUrl: `${host}/token`,
      apiBaseUrl,
      allowedOrigins: [apiBaseUrl, host],
    });
  });

  it('should point region cn at the China hosts', () => {
    expect(providers.battlenet({ region: 'cn' })).toEqual({
      authorizationUrl: 'https://oauth.battlenet.com.cn/authorize',
      tokenUrl: 'https://oauth.battlenet.com.cn/token',
      apiBaseUrl: 'https://gateway.battlenet.com.cn',
      allowedOrigins: ['https://gateway.battlenet.com.cn', 'https://oauth.battlenet.com.cn'],
    });
  });

  it('should reject an unknown region, and the other presets their empty options, with TypeErrors naming the option', () => {
    expect(() => providers.battlenet({ region: 'mars' as never })).toThrow(new TypeError('oauthMiddleware: `battlenet.region` must be one of us, eu, kr, tw, cn'));
    expect(() => providers.oidc({ issuer: '' })).toThrow(new TypeError("oauthMiddleware: `oidc.issuer` must be the provider's issuer URL"));
    expect(() => providers.stackexchange({ key: '' })).toThrow(new TypeError('oauthMiddleware: `stackexchange.key` must be your app key (a non-empty string)'));
  });

  it('should send game-data query parameters through init.query', async () => {
    fake = await startFakeProvider({
      token: () => ({ body: { access_token: 'bnet-at', token_type: 'bearer', expires_in: 86399, scope: 'wow.profile' } }),
      api: (req) => ({ body: { path: req.path, query: Object.fromEntries(req.query), auth: req.headers.authorization } }),
    });
    const { app } = createTestApp({
      oauth: { ...providers.battlenet({ region: 'eu' }), ...pointAt(fake), ...client },
      routes: (a) => a.get('/class', async (req, res) => res.json(await (await req.oauth.get('/data/wow/playable-class/7', { query: { namespace: 'static-eu', locale: 'en_GB' } })).json())),
    });
    const agent = request.agent(app);
    await login(agent);
    expect((await agent.get('/class').expect(200)).body).toEqual({ path: '/data/wow/playable-class/7', query: { namespace: 'static-eu', locale: 'en_GB' }, auth: 'Bearer bnet-at' });
  });
});
