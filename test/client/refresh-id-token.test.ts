import { SignJWT } from 'jose';
import request from 'supertest';
import type { TokensEvent, TokenSet } from 'express-oauth2-session';
import { readRecord, recordKey } from '../../lib/session/token-record';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { login } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// An ID token in a refresh response is verified by the login rules (nonce aside) against the
// login's own ID token, or dropped: never stored unverified, never reused as id_token_hint (issue 13 #4).
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
  it("should keep the login's ID token when the refreshed one is forged (bad signature)", async () => {
    const { agent } = appShowingTokens({ endSession: true });
    await login(agent);
    const original = (await agent.get('/token')).body.idToken as string;
    expect(original.split('.')).toHaveLength(3);
    const forged = await forgedIdToken();
    await as.failNext({ status: 200, body: { access_token: 'at-after-forged-refresh', token_type: 'Bearer', expires_in: 300, id_token: forged } });
    const refreshed = (await agent.post('/refresh').expect(200)).body as { idToken: string; accessToken: string };
    expect(refreshed).toEqual({ idToken: original, accessToken: 'at-after-forged-refresh' });
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

  it("should drop a forged refreshed ID token: onTokens gets none, the record keeps the login's claims", async () => {
    const { agent, events, record } = await loggedIn();
    const before = await record();
    await as.failNext({ status: 200, body: { access_token: 'at-after-forged-refresh', token_type: 'Bearer', expires_in: 300, id_token: await forgedIdToken() } });
    expect((await agent.post('/refresh').expect(200)).body).toEqual({ idToken: null, accessToken: 'at-after-forged-refresh' });
    const after = await record();
    expect([after?.tokens.idToken, after?.idTokenClaims]).toEqual([undefined, before?.idTokenClaims]);
    expect([events[1]?.reason, events[1]?.tokens?.accessToken, events[1]?.tokens?.idToken]).toEqual(['refresh', 'at-after-forged-refresh', undefined]);
  });
});
