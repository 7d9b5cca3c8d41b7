import request from 'supertest';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { authorize, pathOf } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// SPEC §3 / checklist #1-#13: every rejected callback answers without calling the token endpoint,
// leaves the session logged out, and carries no-store + no-referrer.
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

async function started() {
  const { app } = createTestApp({ oauth: providerOptions(as) });
  const agent = request.agent(app);
  const flow = await authorize(agent);
  const params = new URL(flow.callbackUrl).searchParams;
  return { app, agent, flow, state: params.get('state') as string, code: params.get('code') as string, iss: params.get('iss') as string };
}

async function expectRejected(agent: request.Agent, path: string, status: number, code?: string) {
  const res = await agent.get(path).set('Accept', 'application/json');
  expect(res.status).toBe(status);
  if (code) expect(res.body.code).toBe(code);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers.location).toBeUndefined();
  expect((await agent.get('/session')).body.authenticated).toBe(false);
  expect(await as.tokenRequests()).toEqual([]);
  return res;
}

describe('GET /callback rejections (zero token requests)', () => {
  it.each([
    ['no state', (s: string, c: string) => `/callback?code=${c}`],
    ['empty state', (_s: string, c: string) => `/callback?state=&code=${c}`],
    ['two states', (s: string, c: string) => `/callback?state=${s}&state=${s}&code=${c}`],
    ['array state (qs)', (s: string, c: string) => `/callback?state[]=${s}&code=${c}`],
    ['object state (qs)', (s: string, c: string) => `/callback?state[a]=${s}&code=${c}`],
    ['unknown state', (_s: string, c: string) => `/callback?state=forged-state-value&code=${c}`],
    ['oversized state', (_s: string, c: string) => `/callback?state=${'a'.repeat(8192)}&code=${c}`],
    ['malformed percent-encoding', (_s: string, c: string) => `/callback?state=%E0%A4%A&code=${c}`],
  ])('should answer 400 for %s', async (_name, build) => {
    const { agent, state, code } = await started();
    await expectRejected(agent, build(state, code), 400, 'OAUTH_INVALID_CALLBACK');
  });

  it('should answer 400 for a state created in another session (login CSRF)', async () => {
    const victim = await started();
    const attacker = request.agent(createTestApp({ oauth: providerOptions(as) }).app);
    await expectRejected(attacker, pathOf(victim.flow.callbackUrl), 400, 'OAUTH_INVALID_CALLBACK');
  });

  it('should answer 400 for a replayed callback, after exactly one token request', async () => {
    const { agent, flow } = await started();
    await agent.get(pathOf(flow.callbackUrl)).expect(303);
    await agent.post('/logout').expect(303);
    const replay = await agent.get(pathOf(flow.callbackUrl)).set('Accept', 'application/json');
    expect(replay.status).toBe(400);
    expect((await as.tokenRequests()).map((r) => r.grantType)).toEqual(['authorization_code']);
  });

  it.each([
    ['a foreign iss', (q: { state: string; code: string }) => `/callback?state=${q.state}&code=${q.code}&iss=https%3A%2F%2Fevil.example`],
    ['iss with a trailing slash', (q: { state: string; code: string; iss: string }) => `/callback?state=${q.state}&code=${q.code}&iss=${encodeURIComponent(`${q.iss}/`)}`],
    ['two iss', (q: { state: string; code: string; iss: string }) => `/callback?state=${q.state}&code=${q.code}&iss=${encodeURIComponent(q.iss)}&iss=${encodeURIComponent(q.iss)}`],
  ])('should answer 400 OAUTH_MIX_UP for %s', async (_name, build) => {
    const q = await started();
    await expectRejected(q.agent, build(q), 400, 'OAUTH_MIX_UP');
  });

  it.each([
    ['access_denied', 403, 'OAUTH_AUTHORIZATION_DENIED'],
    ['server_error', 502, 'OAUTH_AUTHORIZATION_ERROR'],
    ['temporarily_unavailable', 503, 'OAUTH_AUTHORIZATION_ERROR'],
    ['login_required', 400, 'OAUTH_AUTHORIZATION_ERROR'],
  ])('should map error=%s to %i without a token request', async (error, status, code) => {
    const { agent, state } = await started();
    await expectRejected(agent, `/callback?state=${state}&error=${error}`, status, code);
  });

  it('should never reflect error text or description as HTML', async () => {
    const { agent, state } = await started();
    const res = await expectRejected(agent, `/callback?state=${state}&error=%3Cscript%3Ealert(1)%3C%2Fscript%3E&error_description=%3Cimg%20src%3Dx%3E`, 400);
    expect(res.text).not.toContain('<script');
    expect(res.text).not.toContain('<img');
    expect(res.body.message).toBe('The authorization server answered the login with error "invalid_error".');
  });

  it.each([
    ['no code', (s: string) => `/callback?state=${s}`],
    ['two codes', (s: string, c: string) => `/callback?state=${s}&code=${c}&code=${c}`],
    ['oversized code', (s: string) => `/callback?state=${s}&code=${'c'.repeat(5000)}`],
    ['code and error together', (s: string, c: string) => `/callback?state=${s}&code=${c}&error=access_denied`],
    ['an injected access_token', (s: string, c: string) => `/callback?state=${s}&code=${c}&access_token=x`],
    ['an injected id_token', (s: string, c: string) => `/callback?state=${s}&code=${c}&id_token=x`],
  ])('should answer 400 for %s', async (_name, build) => {
    const { agent, state, code } = await started();
    await expectRejected(agent, build(state, code), 400, 'OAUTH_INVALID_CALLBACK');
  });

  it('should answer 405 to POST and HEAD without consuming the transaction', async () => {
    const { agent, flow } = await started();
    expect((await agent.post(pathOf(flow.callbackUrl))).status).toBe(405);
    expect((await agent.head(pathOf(flow.callbackUrl))).status).toBe(405);
    await agent.get(pathOf(flow.callbackUrl)).expect(303);
  });

  it('should reject all but the 10 newest transactions of one session', async () => {
    const { app } = createTestApp({ oauth: providerOptions(as) });
    const agent = request.agent(app);
    const states: string[] = [];
    for (let i = 0; i < 12; i += 1) {
      const res = await agent.get('/login').expect(302);
      states.push(new URL(res.headers.location as string).searchParams.get('state') as string);
    }
    for (const state of states.slice(0, 2)) await expectRejected(agent, `/callback?state=${state}&error=access_denied`, 400);
    expect((await agent.get(`/callback?state=${states[11]}&error=access_denied`)).status).toBe(403);
  });
});

describe('token endpoint failures at the callback', () => {
  it.each([
    ['400 invalid_grant', 400, { error: 'invalid_grant' }, 400],
    ['401 invalid_client', 401, { error: 'invalid_client' }, 500],
    ['503 html', 503, '<html>down</html>', 502],
    ['200 with an error body', 200, { error: 'invalid_request' }, 502],
    ['200 without access_token', 200, { token_type: 'Bearer' }, 502],
    ['200 with a non-bearer token_type', 200, { access_token: 'x', token_type: 'mac' }, 502],
    ['200 with a JSON array', 200, '[]', 502],
  ])('should map %s to %i, stay logged out and make exactly one token request', async (_name, status, body, expected) => {
    const { agent, flow } = await started();
    await as.failNext({ path: '/token', status, body });
    const res = await agent.get(pathOf(flow.callbackUrl)).set('Accept', 'application/json');
    expect(res.status).toBe(expected);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect((await agent.get('/session')).body.authenticated).toBe(false);
  });
});
