import session from 'express-session';
import request from 'supertest';
import type { TokensEvent } from 'express-oauth2-session';
import { recordKey } from '../../lib/session/token-record';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { login } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// What a login leaves in the store (issue 15 #3): a small login marker in the session and a
// compact token record without the raw ID token unless logout needs it. Sessions and records
// written in the first format (before the upgrade) stay logged in, refresh and log out.
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 3600 });
});
afterAll(() => as.stop());

const get = (store: session.MemoryStore, key: string) => new Promise<Record<string, unknown>>((resolve, reject) => store.get(key, (err, v) => (err ? reject(err) : resolve(v as never))));
const set = (store: session.MemoryStore, key: string, value: object) => new Promise<void>((resolve, reject) => store.set(key, value as never, (err) => (err ? reject(err) : resolve())));
/** The JSON MemoryStore keeps for a key (what costs memory). */
const raw = (store: session.MemoryStore, key: string) => (store as unknown as { sessions: Record<string, string> }).sessions[key] as string;
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

async function loggedIn(endSession: boolean) {
  const store = new session.MemoryStore();
  const events: TokensEvent[] = [];
  const overrides = endSession ? { endSessionUrl: as.endpoints.endSession, idpLogout: true } : {};
  const { app } = createTestApp({
    store,
    oauth: { ...providerOptions(as, overrides), onTokens: (e) => void events.push(e) },
    routes: (a) => a.post('/refresh', (req, res, next) => void req.oauth.refresh().then((t) => res.json({ accessToken: t.accessToken }), next)),
  });
  const agent = request.agent(app);
  await login(agent);
  const sid = (await agent.get('/session')).body.sessionId as string;
  const login0 = events[0]?.tokens as NonNullable<TokensEvent['tokens']>;
  return { store, events, agent, sid, key: recordKey(sid, 'default'), login: login0 };
}

/** Replace what a login stored with the first format, built by hand: marker `{ at, sub }`, record `{ cookie, oauthTokens }`. */
async function rewriteInFirstFormat(t: Awaited<ReturnType<typeof loggedIn>>) {
  const { cookie } = await get(t.store, t.sid);
  await set(t.store, t.sid, { cookie, oauth: { p: { default: { at: Date.now() - 60_000, sub: 'alice' } } } });
  const tokens = { ...t.login, tokenType: 'bearer' };
  await set(t.store, t.key, { cookie: { expires: null, originalMaxAge: null }, oauthTokens: { v: 1, tokens } });
}

describe('the stored format of a new login', () => {
  it("should keep a marker of at and sub, and a record of the tokens with the ID token's iss, sub and nonce but not the ID token", async () => {
    const t = await loggedIn(false);
    const nonce = claimsOf(t.login.idToken as string).nonce as string;
    expect(JSON.parse(raw(t.store, t.sid)).oauth).toEqual({ p: { default: { at: expect.any(Number), sub: 'alice' } } });
    expect(JSON.parse(raw(t.store, t.key))).toEqual({
      cookie: { expires: null },
      t: { v: 1, a: t.login.accessToken, r: t.login.refreshToken, e: t.login.expiresAt, l: 3_600_000, s: 'openid profile email', o: { iss: as.issuer, sub: 'alice', nonce } },
    });
    // 43-char tokens and nonce, 13-digit expiry: everything but the issuer has a fixed length.
    expect([t.login.accessToken.length, t.login.refreshToken?.length, nonce.length, raw(t.store, t.key).length]).toEqual([43, 43, 43, 279 + as.issuer.length]);
  });

  it('should keep the raw ID token instead of its claims when the provider has an end-session endpoint (id_token_hint)', async () => {
    const t = await loggedIn(true);
    const stored = JSON.parse(raw(t.store, t.key)) as { t: Record<string, unknown> };
    expect([stored.t.d, stored.t.o]).toEqual([t.login.idToken, undefined]);
    expect(raw(t.store, t.key).length).toBe(203 + (t.login.idToken as string).length);
  });
});

describe('a session and token record in the first format', () => {
  it('should stay logged in and call the API with the stored token', async () => {
    const t = await loggedIn(false);
    await rewriteInFirstFormat(t);
    expect((await t.agent.get('/session')).body).toEqual({ authenticated: true, user: { sub: 'alice' }, sessionId: t.sid });
    expect((await t.agent.get('/me').expect(200)).body.sub).toBe('alice');
    expect(JSON.parse(raw(t.store, t.key)).oauthTokens.tokens.accessToken).toBe(t.login.accessToken); // read, not rewritten
  });

  it("should refresh, check the refreshed ID token against the old record's ID token, and rewrite the record compactly", async () => {
    const t = await loggedIn(false);
    await rewriteInFirstFormat(t);
    const { nonce } = claimsOf(t.login.idToken as string);
    const { accessToken } = (await t.agent.post('/refresh').expect(200)).body as { accessToken: string };
    const refreshed = t.events[1]?.tokens;
    expect([t.events[1]?.reason, refreshed?.accessToken, claimsOf(refreshed?.idToken as string).sub]).toEqual(['refresh', accessToken, 'alice']);
    const stored = JSON.parse(raw(t.store, t.key)) as Record<string, Record<string, unknown>>;
    expect([stored.oauthTokens, stored.t?.v, stored.t?.a, stored.t?.d, stored.t?.o]).toEqual([undefined, 2, accessToken, undefined, { iss: as.issuer, sub: 'alice', nonce }]);
  });

  it("should send the old record's ID token as id_token_hint at logout", async () => {
    const t = await loggedIn(true);
    await rewriteInFirstFormat(t);
    const res = await t.agent.post('/logout').expect(303);
    const url = new URL(res.headers.location as string);
    expect([`${url.origin}${url.pathname}`, url.searchParams.get('id_token_hint')]).toEqual([as.endpoints.endSession, t.login.idToken]);
    expect((await t.agent.get('/session')).body.authenticated).toBe(false);
  });
});
