import request from 'supertest';
import session from 'express-session';
import type { StoredOAuthData } from '../../lib/session/session-format';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { startFakeProvider } from '../support/fake-providers/fake-provider';
import { authorize, pathOf } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';
import { expectRejected, startedLogin } from './helpers';

// Checklist A (#1-#13), the authorization response at /callback: every rejected callback answers
// without calling the token endpoint, leaves the session logged out, and carries no-store + no-referrer.
/** A session as the store holds it (`req.session.oauth` is opaque to apps). */
type StoredSession = session.SessionData & { oauth?: StoredOAuthData };

let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

const started = () => startedLogin(as);
const rejected = (agent: request.Agent, path: string, status: number, code?: string) => expectRejected(as, agent, path, status, code);

describe('#1 missing state', () => {
  it.each([
    ['no state', (_s: string, c: string) => `/callback?code=${c}`],
    ['empty state', (_s: string, c: string) => `/callback?state=&code=${c}`],
  ])('should answer 400 for %s', async (_name, build) => {
    const { agent, state, code } = await started();
    await rejected(agent, build(state, code), 400, 'OAUTH_INVALID_CALLBACK');
  });
});

describe('#2 mismatched or tampered state', () => {
  it.each([
    ['an unknown state', () => 'forged-state-value'],
    ['a state with one character changed', (s: string) => `${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`],
  ])('should answer 400 for %s', async (_name, tamper) => {
    const { agent, state, code } = await started();
    await rejected(agent, `/callback?state=${tamper(state)}&code=${code}`, 400, 'OAUTH_INVALID_CALLBACK');
  });
});

describe('#3 replayed callback', () => {
  it('should answer 400 to the second use, after exactly one token request', async () => {
    const { agent, flow } = await started();
    await agent.get(pathOf(flow.callbackUrl)).expect(303);
    await agent.post('/logout').expect(303);
    expect((await agent.get(pathOf(flow.callbackUrl)).set('Accept', 'application/json')).status).toBe(400);
    expect((await as.tokenRequests()).map((r) => r.grantType)).toEqual(['authorization_code']);
  });
});

describe('#4 state from another session (login CSRF)', () => {
  it("should answer 400 when an attacker delivers the victim's callback in their own session", async () => {
    const victim = await started();
    const attacker = request.agent(createTestApp({ oauth: providerOptions(as) }).app);
    await rejected(attacker, pathOf(victim.flow.callbackUrl), 400, 'OAUTH_INVALID_CALLBACK');
  });
});

describe('#5 no or expired transaction', () => {
  it('should answer 400 without a session, and for a transaction older than 10 minutes', async () => {
    const fresh = request.agent(createTestApp({ oauth: providerOptions(as) }).app);
    await rejected(fresh, '/callback?state=whatever&code=x', 400);

    const { agent, flow, store } = await started();
    const sid = (await agent.get('/session')).body.sessionId as string;
    const stored = await new Promise<StoredSession>((resolve) => store.get(sid, (_e, s) => resolve(s as StoredSession)));
    for (const tx of Object.values(stored.oauth?.tx ?? {})) tx.t -= 11 * 60 * 1000;
    await new Promise((resolve) => store.set(sid, stored, resolve));
    await rejected(agent, pathOf(flow.callbackUrl), 400, 'OAUTH_INVALID_CALLBACK');
  });
});

describe('several logins in flight (two tabs)', () => {
  it('should complete both, each to its own returnTo', async () => {
    const agent = request.agent(createTestApp({ oauth: providerOptions(as) }).app);
    const one = await authorize(agent, { loginPath: '/login?returnTo=/one' });
    const two = await authorize(agent, { loginPath: '/login?returnTo=/two' });
    expect((await agent.get(pathOf(two.callbackUrl)).expect(303)).headers.location).toBe('/two');
    expect((await agent.get(pathOf(one.callbackUrl)).expect(303)).headers.location).toBe('/one');
  });

  it('should keep at most 10 transactions per session, however many logins start (the oldest are rejected)', async () => {
    const store = new session.MemoryStore();
    const agent = request.agent(createTestApp({ store, oauth: providerOptions(as) }).app);
    const states: string[] = [];
    for (let i = 0; i < 100; i += 1) states.push(new URL((await agent.get('/login').expect(302)).headers.location as string).searchParams.get('state') as string);
    const sid = (await agent.get('/session')).body.sessionId as string;
    const stored = await new Promise<StoredSession>((resolve) => store.get(sid, (_e, s) => resolve(s as StoredSession)));
    expect(Object.keys(stored.oauth?.tx ?? {})).toHaveLength(10);
    for (const state of [states[0], states[89]]) await rejected(agent, `/callback?state=${state}&error=access_denied`, 400);
    expect((await agent.get(`/callback?state=${states[99]}&error=access_denied`)).status).toBe(403);
  });
});

describe('#7 PKCE hygiene', () => {
  it('should send S256 with a fresh challenge and the matching verifier at the token endpoint', async () => {
    const fake = await startFakeProvider({ token: () => ({ body: { access_token: 'at', token_type: 'bearer' } }) });
    try {
      const { app } = createTestApp({ oauth: { ...providerOptions(as), issuer: undefined, authorizationUrl: `${fake.url}/authorize`, tokenUrl: `${fake.url}/token` } as never });
      const agent = request.agent(app);
      const start = await agent.get('/login').expect(302);
      const back = await fetch(start.headers.location as string, { redirect: 'manual' });
      await agent.get(pathOf(back.headers.get('location') as string)).expect(303);
      const authorizeReq = fake.requests.find((r) => r.path === '/authorize');
      const verifier = fake.tokenRequests()[0]?.form.get('code_verifier') as string;
      expect(authorizeReq?.query.get('code_challenge_method')).toBe('S256');
      expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const { createHash } = await import('node:crypto');
      expect(createHash('sha256').update(verifier).digest('base64url')).toBe(authorizeReq?.query.get('code_challenge'));
    } finally {
      await fake.stop();
    }
  });
});

describe('#8 authorization code injection', () => {
  it("should fail (400) when an attacker injects the victim's code into their own flow", async () => {
    const victim = await started();
    const attacker = await started();
    const res = await attacker.agent.get(`/callback?state=${attacker.state}&code=${victim.code}&iss=${encodeURIComponent(attacker.iss)}`).set('Accept', 'application/json');
    expect(res.status).toBe(400); // the code is bound to the victim's PKCE challenge: invalid_grant
    expect((await attacker.agent.get('/session')).body.authenticated).toBe(false);
    expect((await as.tokenRequests()).map((r) => [r.grantType, r.status, r.error])).toEqual([['authorization_code', 400, 'invalid_grant']]);
  });
});

describe('#9 mix-up (RFC 9207)', () => {
  it.each([
    ['a foreign iss', (_q: { iss: string }) => 'https://evil.example'],
    ['iss with a trailing slash', (q: { iss: string }) => `${q.iss}/`],
  ])('should answer 400 OAUTH_MIX_UP for %s', async (_name, iss) => {
    const q = await started();
    await rejected(q.agent, `/callback?state=${q.state}&code=${q.code}&iss=${encodeURIComponent(iss(q))}`, 400, 'OAUTH_MIX_UP');
  });

  it('should answer 400 for two iss parameters', async () => {
    const q = await started();
    const iss = encodeURIComponent(q.iss);
    await rejected(q.agent, `/callback?state=${q.state}&code=${q.code}&iss=${iss}&iss=${iss}`, 400, 'OAUTH_MIX_UP');
  });
});

describe('#10 AS error responses', () => {
  it.each([
    ['access_denied', 403, 'OAUTH_AUTHORIZATION_DENIED'],
    ['server_error', 502, 'OAUTH_AUTHORIZATION_ERROR'],
    ['temporarily_unavailable', 503, 'OAUTH_AUTHORIZATION_ERROR'],
    ['login_required', 400, 'OAUTH_AUTHORIZATION_ERROR'],
  ])('should map error=%s to %i without a token request', async (error, status, code) => {
    const { agent, state } = await started();
    await rejected(agent, `/callback?state=${state}&error=${error}`, status, code);
  });

  it('should never reflect error text or description as HTML', async () => {
    const { agent, state } = await started();
    const res = await rejected(agent, `/callback?state=${state}&error=%3Cscript%3Ealert(1)%3C%2Fscript%3E&error_description=%3Cimg%20src%3Dx%3E`, 400);
    expect(res.text).not.toContain('<script');
    expect(res.text).not.toContain('<img');
    expect(res.body.message).toBe('The authorization server answered the login with error "invalid_error".');
  });

  it('should answer 400 for an error with an invalid state, and for code and error together', async () => {
    const q = await started();
    await rejected(q.agent, '/callback?state=forged&error=access_denied', 400, 'OAUTH_INVALID_CALLBACK');
    const r = await started();
    await rejected(r.agent, `/callback?state=${r.state}&code=${r.code}&error=access_denied`, 400, 'OAUTH_INVALID_CALLBACK');
  });
});

describe('#11 duplicate, array-valued and structured parameters', () => {
  it.each([
    ['two states', (s: string, c: string) => `/callback?state=${s}&state=${s}&code=${c}`],
    ['state[] (qs array)', (s: string, c: string) => `/callback?state[]=${s}&code=${c}`],
    ['state[a] (qs object)', (s: string, c: string) => `/callback?state[a]=${s}&code=${c}`],
    ['two codes', (s: string, c: string) => `/callback?state=${s}&code=${c}&code=${c}`],
    ['code[]', (s: string, c: string) => `/callback?state=${s}&code[]=${c}`],
    ['__proto__ keys', (s: string, c: string) => `/callback?state=${s}&__proto__[x]=1&hasOwnProperty=1&code=${c}&code=x`],
  ])('should answer 400 for %s, and serve the next request normally', async (_name, build) => {
    const { agent, state, code } = await started();
    await rejected(agent, build(state, code), 400, 'OAUTH_INVALID_CALLBACK');
    expect((await agent.get('/session')).status).toBe(200);
  });

  it("should parse the raw query whatever Express's query parser is", async () => {
    const { app, agent, state, code } = await started();
    app.set('query parser', 'extended');
    await rejected(agent, `/callback?state[]=${state}&code=${code}`, 400, 'OAUTH_INVALID_CALLBACK');
  });
});

describe('#12 empty, oversized and unknown parameters', () => {
  it.each([
    ['oversized state', (_s: string, c: string) => `/callback?state=${'a'.repeat(8192)}&code=${c}`],
    ['malformed percent-encoding', (_s: string, c: string) => `/callback?state=%E0%A4%A&code=${c}`],
    ['empty code', (s: string) => `/callback?state=${s}&code=`],
    ['oversized code', (s: string) => `/callback?state=${s}&code=${'c'.repeat(5000)}`],
  ])('should answer 400 for %s', async (_name, build) => {
    const { agent, state, code } = await started();
    await rejected(agent, build(state, code), 400, 'OAUTH_INVALID_CALLBACK');
  });

  it('should ignore unknown extra parameters', async () => {
    const { agent, flow } = await started();
    await agent.get(`${pathOf(flow.callbackUrl)}&session_state=x&foo=bar`).expect(303);
  });
});

describe('#13 wrong method and implicit-flow artifacts', () => {
  it.each(['access_token', 'id_token', 'token', 'response'])('should answer 400 when the callback carries %s', async (artifact) => {
    const { agent, state, code } = await started();
    await rejected(agent, `/callback?state=${state}&code=${code}&${artifact}=x`, 400, 'OAUTH_INVALID_CALLBACK');
  });

  it('should answer 405 to POST and HEAD without consuming the transaction', async () => {
    const { agent, flow } = await started();
    expect((await agent.post(pathOf(flow.callbackUrl))).status).toBe(405);
    expect((await agent.head(pathOf(flow.callbackUrl))).status).toBe(405);
    await agent.get(pathOf(flow.callbackUrl)).expect(303);
  });
});
