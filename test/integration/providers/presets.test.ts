import { format } from 'node:util';
import createDebug from 'debug';
import request from 'supertest';
import { providers } from 'express-oauth2-session';
import { expireAccessToken } from 'express-oauth2-session/testing';
import { pointAt, startFakeProvider, type FakeProvider, type RecordedRequest } from '../../support/fake-providers/fake-provider';
import { login } from '../../support/login-flow';
import { createTestApp, REDIRECT_URI } from '../../support/test-app';

// Each preset's quirks against a local server that speaks that provider's wire format.
const client = { clientId: 'app-id', clientSecret: 'app-secret', redirectUri: REDIRECT_URI };
let fake: FakeProvider | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

function appFor(oauth: object) {
  return createTestApp({
    oauth: oauth as never,
    routes: (a) =>
      a.get('/api', async (req, res, next) => {
        try {
          const r = await req.oauth.get(String(req.query.path ?? '/user'), { query: req.query.q ? { q: String(req.query.q) } : undefined });
          res.status(r.status).json(await r.json());
        } catch (err) {
          next(err);
        }
      }),
  });
}

describe('providers.github()', () => {
  const githubToken = (req: RecordedRequest) => {
    if (req.form.get('code') === 'code-bad') return { status: 200, body: { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' } };
    const fields = { access_token: 'gho_canary123', token_type: 'bearer', scope: 'read:user' };
    // GitHub answers form-encoded unless the client asks for JSON.
    return req.headers.accept?.includes('application/json') ? { body: fields } : { type: 'application/x-www-form-urlencoded', body: new URLSearchParams(fields).toString() };
  };
  const githubApi = (req: RecordedRequest) =>
    req.headers['user-agent'] ? { body: { login: 'octocat', auth: req.headers.authorization === 'Bearer gho_canary123' } } : { status: 403, body: { message: 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header' } };

  it('should ask for JSON, use a non-expiring token without refreshing, and send a User-Agent', async () => {
    fake = await startFakeProvider({ token: githubToken, api: githubApi });
    const agent = request.agent(appFor({ ...providers.github(), ...pointAt(fake), ...client, scope: ['read:user'] }).app);
    await login(agent);
    expect((await agent.get('/api').expect(200)).body).toEqual({ login: 'octocat', auth: true });
    expect((await agent.get('/api').expect(200)).body.login).toBe('octocat');
    expect(fake.tokenRequests().map((r) => [r.headers.accept, r.form.get('grant_type')])).toEqual([['application/json', 'authorization_code']]);
    expect(fake.requests.find((r) => r.path === '/user')?.headers.accept).toBe('application/vnd.github+json');
  });

  it('should parse a form-encoded token response too', async () => {
    fake = await startFakeProvider({ token: (req) => githubToken({ ...req, headers: {} }), api: githubApi });
    const agent = request.agent(appFor({ ...providers.github(), ...pointAt(fake), ...client }).app);
    await login(agent);
    expect((await agent.get('/api').expect(200)).body.auth).toBe(true);
  });

  it('should treat an error answered with HTTP 200 as a failed login (400)', async () => {
    fake = await startFakeProvider({ token: githubToken });
    const { app } = appFor({ ...providers.github(), ...pointAt(fake), ...client });
    const agent = request.agent(app);
    const start = await agent.get('/login').expect(302);
    const state = new URL(start.headers.location as string).searchParams.get('state');
    const res = await agent.get(`/callback?state=${state}&code=code-bad`).set('Accept', 'application/json');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('OAUTH_TOKEN_ENDPOINT_ERROR');
    expect((await agent.get('/session')).body.authenticated).toBe(false);
  });
});

describe('providers.stackexchange({ key })', () => {
  it('should read `expires`, send client credentials in the body, and put token + key in the query (never in logs)', async () => {
    fake = await startFakeProvider({
      token: () => ({ body: { access_token: 'se-canary-token', expires: 86400 } }), // no token_type on this path
      api: (req) => ({ body: { items: [{ display_name: 'dev' }], key: req.query.get('key'), token: req.query.get('access_token') === 'se-canary-token', header: req.headers.authorization ?? null } }),
    });
    const lines: string[] = [];
    const previous = createDebug.log;
    createDebug.log = (...args: unknown[]) => void lines.push(format(...args));
    createDebug.enable('express-oauth2-session*');
    try {
      const agent = request.agent(appFor({ ...providers.stackexchange({ key: 'app-key' }), ...pointAt(fake), ...client, scope: ['no_expiry'] }).app);
      await login(agent);
      const res = await agent.get('/api?path=/2.3/me&q=site').expect(200);
      expect(res.body).toEqual({ items: [{ display_name: 'dev' }], key: 'app-key', token: true, header: null });
    } finally {
      createDebug.disable();
      createDebug.log = previous;
    }
    const exchange = fake.tokenRequests()[0] as RecordedRequest;
    expect([exchange.headers.authorization, exchange.form.get('client_id'), exchange.form.get('client_secret')]).toEqual([undefined, 'app-id', 'app-secret']);
    expect(lines.some((l) => l.includes(`GET ${fake?.url}/2.3/me`))).toBe(true); // origin + path, never the query
    expect(lines.join('\n')).not.toContain('se-canary-token');
    expect(lines.join('\n')).not.toContain('app-secret');
  });
});

describe('providers.google()', () => {
  it('should ask for offline access and keep the refresh token Google omits on refresh', async () => {
    let issued = 0;
    fake = await startFakeProvider({
      token: (req) => {
        issued += 1;
        return req.form.get('grant_type') === 'authorization_code'
          ? { body: { access_token: `ya29.first`, token_type: 'Bearer', expires_in: 3599, refresh_token: '1//refresh-original', scope: 'openid' } }
          : { body: { access_token: `ya29.refreshed-${issued}`, token_type: 'Bearer', expires_in: 3599, scope: 'openid' } };
      },
      api: (req) => ({ body: { auth: req.headers.authorization } }),
    });
    const refreshTokens: Array<string | undefined> = [];
    const { app, store } = appFor({ ...providers.google(), ...pointAt(fake), ...client, scope: ['openid'], onTokens: ({ tokens }: { tokens?: { refreshToken?: string } }) => void refreshTokens.push(tokens?.refreshToken) });
    const agent = request.agent(app);
    const start = await agent.get('/login').expect(302);
    const authorize = new URL(start.headers.location as string).searchParams;
    expect([authorize.get('access_type'), authorize.get('prompt')]).toEqual(['offline', 'consent']);
    await login(agent);
    const sid = (await agent.get('/session')).body.sessionId as string;
    for (let i = 0; i < 2; i += 1) {
      await expireAccessToken(store as never, sid);
      await agent.get('/api?path=/oauth2/v3/userinfo').expect(200);
    }
    expect(refreshTokens).toEqual(['1//refresh-original', '1//refresh-original', '1//refresh-original']);
    expect(fake.tokenRequests().slice(1).map((r) => r.form.get('refresh_token'))).toEqual(['1//refresh-original', '1//refresh-original']);
  });
});

describe('providers.battlenet({ region }) and providers.oidc({ issuer })', () => {
  it.each([
    ['us', 'https://oauth.battle.net/authorize', 'https://us.api.blizzard.com'],
    ['eu', 'https://oauth.battle.net/authorize', 'https://eu.api.blizzard.com'],
    ['kr', 'https://oauth.battle.net/authorize', 'https://kr.api.blizzard.com'],
    ['tw', 'https://oauth.battle.net/authorize', 'https://tw.api.blizzard.com'],
    ['cn', 'https://oauth.battlenet.com.cn/authorize', 'https://gateway.battlenet.com.cn'],
  ] as const)('should point region %s at its hosts', (region, authorizationUrl, apiBaseUrl) => {
    expect(providers.battlenet({ region })).toMatchObject({ authorizationUrl, tokenUrl: authorizationUrl.replace('/authorize', '/token'), apiBaseUrl });
  });

  it('should reject an unknown region and an empty issuer with TypeErrors', () => {
    expect(() => providers.battlenet({ region: 'mars' as never })).toThrow('`battlenet.region` must be one of us, eu, kr, tw, cn');
    expect(() => providers.oidc({ issuer: '' })).toThrow(TypeError);
    expect(() => providers.stackexchange({ key: '' })).toThrow('`stackexchange.key` must be your app key');
  });

  it('should send game-data query parameters through init.query', async () => {
    fake = await startFakeProvider({ token: () => ({ body: { access_token: 'bnet', token_type: 'bearer', expires_in: 86399 } }), api: (req) => ({ body: Object.fromEntries(req.query) }) });
    const { app } = createTestApp({
      oauth: { ...providers.battlenet({ region: 'eu' }), ...pointAt(fake), ...client } as never,
      routes: (a) => a.get('/class', async (req, res) => res.json(await (await req.oauth.get('/data/wow/playable-class/7', { query: { namespace: 'static-eu', locale: 'en_GB' } })).json())),
    });
    const agent = request.agent(app);
    await login(agent);
    expect((await agent.get('/class').expect(200)).body).toEqual({ namespace: 'static-eu', locale: 'en_GB' });
  });
});
