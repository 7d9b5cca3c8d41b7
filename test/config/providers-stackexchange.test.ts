import { format, inspect } from 'node:util';
import createDebug from 'debug';
import request from 'supertest';
import { providers, type TokenSet } from 'express-oauth2-session';
import { pointAt, startFakeProvider, type FakeHandlers, type FakeProvider } from '../support/fake-providers/fake-provider';
import { SE_LIFETIME_S, SE_TOKEN, stackExchangeWire } from '../support/fake-providers/stackexchange';
import { login } from '../support/login-flow';
import { createTestApp, REDIRECT_URI } from '../support/test-app';

// providers.stackexchange({ key }) against a local server that speaks Stack Exchange's wire format:
// `expires` instead of expires_in, no token_type, no_expiry tokens, token + key in the query.
const app = { clientId: 'se-client', clientSecret: 'se-secret', key: 'se-app-key((', redirectUri: REDIRECT_URI };
let fake: FakeProvider | undefined;
let debugLines: string[] = [];
const originalLog = createDebug.log;
beforeEach(() => {
  debugLines = [];
  createDebug.log = (...args: unknown[]) => void debugLines.push(format(...args));
  createDebug.enable('express-oauth2-session*');
});
afterEach(async () => {
  createDebug.disable();
  createDebug.log = originalLog;
  await fake?.stop();
  fake = undefined;
});

async function loggedIn(wire: FakeHandlers, overrides: object = {}) {
  fake = await startFakeProvider(wire);
  const tokens: Array<Readonly<TokenSet> | undefined> = [];
  const { app: server } = createTestApp({
    oauth: {
      ...providers.stackexchange({ key: app.key }),
      ...pointAt(fake),
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      redirectUri: app.redirectUri,
      onTokens: (e) => void tokens.push(e.tokens),
      ...overrides,
    },
    routes: (a) =>
      a.get('/se', async (req, res) => {
        try {
          const r = await req.oauth.get(String(req.query.path), { query: { site: 'stackoverflow' } });
          res.status(r.status).json(await r.json());
        } catch (err) {
          res.status(599).json({ caught: inspect(err, { depth: 10 }), message: (err as Error).message });
        }
      }),
  });
  const agent = request.agent(server);
  const before = Date.now();
  await login(agent);
  return { agent, tokens, before, after: Date.now() };
}

describe('providers.stackexchange({ key })', () => {
  it('should read `expires` from the JSON path, assume bearer, send client credentials as form fields, and put token + key in the query only', async () => {
    const { agent, tokens, before, after } = await loggedIn(stackExchangeWire(app, { json: true }), { scope: ['read_inbox'] });
    expect((await agent.get('/se?path=/2.3/me').expect(200)).body).toEqual({ items: [{ user_id: 1, display_name: 'dev' }], has_more: false, quota_max: 10000, quota_remaining: 9999 });

    const token = tokens[0] as TokenSet;
    expect([token.accessToken, token.tokenType, token.refreshToken]).toEqual([SE_TOKEN, 'bearer', undefined]);
    expect(token.expiresAt).toBeGreaterThanOrEqual(before + SE_LIFETIME_S * 1000);
    expect(token.expiresAt).toBeLessThanOrEqual(after + SE_LIFETIME_S * 1000);
    const exchange = fake?.tokenRequests()[0];
    expect(exchange?.path).toBe('/oauth/access_token/json');
    expect([exchange?.headers.authorization, exchange?.form.get('client_id'), exchange?.form.get('client_secret'), exchange?.form.get('redirect_uri')]).toEqual([
      undefined,
      'se-client',
      'se-secret',
      REDIRECT_URI,
    ]);
    const call = fake?.apiRequests()[0];
    expect([call?.headers.authorization, call?.query.get('access_token'), call?.query.get('key'), call?.query.get('site')]).toEqual([undefined, SE_TOKEN, app.key, 'stackoverflow']);

    const log = debugLines.join('\n');
    expect(debugLines.filter((l) => l.includes(' express-oauth2-session:http ')).map((l) => l.replace(/^.*express-oauth2-session:http /, '').replace(/ \+\d+m?s$/, ''))).toEqual([
      `GET ${fake?.url}/2.3/me`,
    ]);
    for (const secret of [SE_TOKEN, encodeURIComponent(SE_TOKEN), 'se-secret', 'access_token=']) expect(log).not.toContain(secret);
  });

  it('should keep a no_expiry token from the form-encoded path without ever refreshing it', async () => {
    const { agent, tokens } = await loggedIn(stackExchangeWire(app, { json: false }), { scope: ['no_expiry'], refreshLeewaySeconds: 10 ** 6 });
    await agent.get('/se?path=/2.3/me').expect(200);
    await agent.get('/se?path=/2.3/me').expect(200);
    expect(tokens).toEqual([{ accessToken: SE_TOKEN, tokenType: 'bearer' }]);
    expect(fake?.tokenRequests().map((r) => r.path)).toEqual(['/oauth/access_token']);
  });

  it("should be refused by the API without the preset's key (the fake enforces what Stack Exchange does)", async () => {
    const { agent } = await loggedIn(stackExchangeWire(app, { json: true }), { extraQuery: {} });
    const res = await agent.get('/se?path=/2.3/me').expect(400);
    expect(res.body).toEqual({ error_id: 405, error_name: 'key_required', error_message: 'key is required when access_token is passed' });
  });

  it('should keep the token out of the error when the API connection breaks', async () => {
    const wire = stackExchangeWire(app, { json: true });
    const { agent } = await loggedIn({ ...wire, api: (req, log) => (req.path === '/2.3/broken' ? 'destroy' : (wire.api as NonNullable<FakeHandlers['api']>)(req, log)) });
    const res = await agent.get('/se?path=/2.3/broken').expect(599);
    expect(res.body.caught).toMatch(/SocketError|other side closed/);
    for (const secret of [SE_TOKEN, encodeURIComponent(SE_TOKEN), 'access_token']) {
      expect(res.body.caught).not.toContain(secret);
      expect(debugLines.join('\n')).not.toContain(secret);
    }
  });
});
