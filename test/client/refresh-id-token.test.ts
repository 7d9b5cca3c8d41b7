import { SignJWT } from 'jose';
import request from 'supertest';
import type { TokensEvent, TokenSet } from 'express-oauth2-session';
import { readRecord, recordKey } from '../../lib/session/token-record';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { login } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// An ID token in a refresh response is verified by the login rules (nonce aside) against the
// login's own ID token; one that fails refuses the whole response (502 OAUTH_REFRESH_ID_TOKEN_INVALID,
// issue 24 #0): never stored, never reused as id_token_hint, its access token never used.
// The raw ID token is stored only when logout needs it as id_token_hint (an end-session endpoint);
// otherwise the record keeps the login's iss, sub, nonce (auth_time) to check refreshed ones (issue 15 #3).
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());

function appShowingTokens(options: { endSession: boolean }) {
  const events: TokensEvent[] = [];
  const { app, store } = createTestApp({
    oauth: {
      ...providerOptions(as, { scope: ['openid', 'offline_access'], ...(options.endSession ? { endSessionUrl: as.endpoints.endSession, idpLogout: true } : {}) }),
      onTokens: (e) => void events.push(e),
    },
    routes: (a) => {
      a.post('/refresh', (req, res, next) => {
        req.oauth.refresh().then((t: Readonly<TokenSet>) => res.json({ idToken: t.idToken ?? null, accessToken: t.accessToken }), next);
      });
      a.get('/token', (req, res, next) => {
        req.oauth.getToken().then((t) => res.json({ idToken: t?.idToken ?? null }), next);
      });
      // Test-only probe: the stored token set (never a route an app should have).
      a.post('/token-set', (req, res, next) => {
        req.oauth.getToken().then((t) => res.json({ idToken: t?.idToken ?? null, accessToken: t?.accessToken ?? null }), next);
      });
    },
  });
  return { agent: request.agent(app), store, events };
}

async function forgedIdToken(): Promise<string> {
  return new SignJWT({ sub: 'mallory', nonce: 'x' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(as.issuer)
    .setAudience('rp-basic')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode('not-the-provider-key-not-the-provider-key'));
}

/** The AS signs deterministically (RS256) with second-granular iat: a refresh in the login's second re-issues the same ID token. */
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1005 - (Date.now() % 1000)));

const subOf = (jwt: string | undefined) => JSON.parse(Buffer.from(String(jwt).split('.')[1]!, 'base64url').toString()).sub as string;

describe('ID token in a refresh response, provider with an end-session endpoint (raw ID token kept)', () => {
  it('should refuse the whole refresh response when its ID token is forged (bad signature): 502, the login keeps its previous tokens', async () => {
    const { agent, events } = appShowingTokens({ endSession: true });
    await login(agent);
    const before = (await agent.post('/token-set').expect(200)).body as { idToken: string; accessToken: string };
    expect(before.idToken.split('.')).toHaveLength(3);
    const forged = await forgedIdToken();
    await as.failNext({ status: 200, body: { access_token: 'at-after-forged-refresh', token_type: 'Bearer', expires_in: 300, id_token: forged } });
    const res = await agent.post('/refresh');
    expect([res.status, res.body.code, res.text.includes('at-after-forged-refresh')]).toEqual([502, 'OAUTH_REFRESH_ID_TOKEN_INVALID', false]);
    expect((await agent.post('/token-set').expect(200)).body).toEqual(before);
    expect(events.map((e) => e.reason)).toEqual(['login']);
  });

  it('should store the refreshed ID token when it verifies and names the same user', async () => {
    const { agent } = appShowingTokens({ endSession: true });
    await login(agent);
    const original = (await agent.get('/token')).body.idToken as string;
    await nextSecond();
    const refreshed = (await agent.post('/refresh').expect(200)).body as { idToken: string };
    expect(refreshed.idToken).not.toBe(original);
    expect(subOf(refreshed.idToken)).toBe('alice');
  });
});

describe('ID token in a refresh response, provider without an end-session endpoint (claims kept)', () => {
  async function loggedIn() {
    const app = appShowingTokens({ endSession: false });
    await login(app.agent);
    const sid = (await app.agent.get('/session')).body.sessionId as string;
    const record = async () => readRecord(app.store, recordKey(sid, 'default'), 2000);
    return { ...app, record };
  }

  it("should store the login's iss, sub and nonce instead of the ID token, and hand the ID token to onTokens", async () => {
    const { agent, events, record } = await loggedIn();
    const stored = await record();
    expect([stored?.tokens.idToken, stored?.idTokenClaims?.iss, stored?.idTokenClaims?.sub, Object.keys(stored?.idTokenClaims ?? {})]).toEqual([
      undefined,
      as.issuer,
      'alice',
      ['iss', 'sub', 'nonce'],
    ]);
    expect((await agent.get('/token')).body.idToken).toBeNull();
    expect(events.map((e) => [e.reason, subOf(e.tokens?.idToken)])).toEqual([['login', 'alice']]);
  });

  it("should verify a refreshed ID token against the kept claims: onTokens gets it, the record keeps the login's claims", async () => {
    const { agent, events, record } = await loggedIn();
    const before = await record();
    await nextSecond();
    expect((await agent.post('/refresh').expect(200)).body.idToken).toBeNull();
    const after = await record();
    expect([after?.v, after?.tokens.idToken, after?.idTokenClaims]).toEqual([2, undefined, before?.idTokenClaims]);
    const refreshed = events[1]?.tokens?.idToken;
    expect([events[1]?.reason, subOf(refreshed), refreshed === events[0]?.tokens?.idToken]).toEqual(['refresh', 'alice', false]);
  });

  it('should refuse a refresh response with a forged ID token as a whole: 502, onTokens not called, the record unchanged', async () => {
    const { agent, events, record } = await loggedIn();
    const before = await record();
    await as.failNext({ status: 200, body: { access_token: 'at-after-forged-refresh', token_type: 'Bearer', expires_in: 300, id_token: await forgedIdToken() } });
    const res = await agent.post('/refresh');
    expect([res.status, res.body.code]).toEqual([502, 'OAUTH_REFRESH_ID_TOKEN_INVALID']);
    expect(await record()).toEqual(before);
    expect(events.map((e) => e.reason)).toEqual(['login']);
  });
});
