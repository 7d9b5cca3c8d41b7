import type { JWTPayload } from 'jose';
import { startScriptableOp, type Grant, type ScriptableOp } from '../support/scriptable-op/op';
import { loginAt, rpApp, rpOptions, sessionOf } from '../support/scriptable-op/rp';

// OIDF refresh-token plan (oidcc-client-refreshtoken-test-plan, not part of certification): a
// refreshed ID token must name the login's issuer, user and client (OIDC Core §12.2). One that
// does not refuses the whole refresh response (502 OAUTH_REFRESH_ID_TOKEN_INVALID): none of its
// tokens is used, the login keeps its previous tokens (docs/refresh-id-token.md).
let op: ScriptableOp;
beforeAll(async () => {
  op = await startScriptableOp();
});
afterEach(() => {
  op.reset();
  jest.restoreAllMocks();
});
afterAll(() => op.stop());

const onRefresh = (change: (claims: JWTPayload) => JWTPayload) => (claims: JWTPayload, grant: Grant) => (grant === 'refresh_token' ? change(claims) : claims);
/** The access token an API call carried. */
const bearerOfLastApiCall = () =>
  op.requests
    .filter((r) => r.path === '/api/me')
    .at(-1)
    ?.authorization?.replace(/^Bearer /, '');

async function loggedIn() {
  const rp = rpApp(rpOptions(op, { scope: ['openid', 'offline_access'] }));
  expect((await loginAt(rp.agent)).status).toBe(303);
  const loginTokens = op.issued.at(-1)!.body;
  return { ...rp, loginTokens };
}

async function expectRefused(change: (claims: JWTPayload) => JWTPayload, message: string) {
  const { agent, errors, loginTokens } = await loggedIn();
  op.script = { idTokenClaims: onRefresh(change) };
  const res = await agent.post('/refresh');
  const refused = op.issued.at(-1)!;
  expect([refused.grant, res.status, res.body.code, res.text.includes(String(refused.body.access_token))]).toEqual(['refresh_token', 502, 'OAUTH_REFRESH_ID_TOKEN_INVALID', false]);
  expect(errors.map((e) => [e.code, (e.cause as Error).message])).toEqual([['OAUTH_REFRESH_ID_TOKEN_INVALID', message]]);
  // The login keeps its previous tokens: the next API call carries the login's access token, never the refused one.
  expect((await agent.get('/api')).status).toBe(200);
  expect(bearerOfLastApiCall()).toBe(loginTokens.access_token);
  expect(await sessionOf(agent)).toEqual({ authenticated: true, sub: 'alice-0001' });
}

describe('OIDF refresh-token plan', () => {
  it('oidcc-client-test-refresh-token: refreshes, accepts the refreshed ID token of the same user, and calls APIs with the new access token', async () => {
    const { agent, loginTokens, errors } = await loggedIn();
    expect((await agent.post('/refresh')).status).toBe(200);
    const refreshed = op.issued.at(-1)!;
    expect([refreshed.grant, refreshed.body.access_token === loginTokens.access_token]).toEqual(['refresh_token', false]);
    expect((await agent.get('/api')).status).toBe(200);
    expect([bearerOfLastApiCall(), errors]).toEqual([refreshed.body.access_token, []]);
    expect(
      op.requests
        .filter((r) => r.path === '/token')
        .at(-1)
        ?.form.get('refresh_token'),
    ).toBe(loginTokens.refresh_token);
  });

  it('oidcc-client-test-refresh-token-invalid-issuer: refuses the refresh response whose ID token names another issuer', async () => {
    await expectRefused((c) => ({ ...c, iss: 'https://op.example' }), 'The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: iss).');
  });

  it('oidcc-client-test-refresh-token-invalid-sub: refuses the refresh response whose ID token names another user', async () => {
    await expectRefused((c) => ({ ...c, sub: 'mallory-0666' }), 'The refreshed ID token names another user (sub) than the login.');
  });

  it('oidcc-client-test-refresh-token-invalid-aud: refuses the refresh response whose ID token is for another client', async () => {
    await expectRefused((c) => ({ ...c, aud: 'another-client' }), 'The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: aud).');
  });

  it('oidcc-client-test-refresh-token-invalid-azp: refuses the refresh response whose ID token names another authorized party (azp)', async () => {
    await expectRefused((c) => ({ ...c, azp: 'another-client' }), 'The ID token azp claim names another client.');
  });

  it("a proactive refresh whose ID token names another user: the request goes on with the login's still-valid access token, never the refused one", async () => {
    const rp = rpApp(rpOptions(op, { scope: ['openid', 'offline_access'], refreshLeewaySeconds: 400 }));
    expect((await loginAt(rp.agent)).status).toBe(303);
    const loginTokens = op.issued.at(-1)!.body;
    op.script = { idTokenClaims: onRefresh((c) => ({ ...c, sub: 'mallory-0666' })) };
    // 200 of the access token's 300 s later (the clock moved, no sleeping): due (within half its lifetime), still valid.
    const real = Date.now.bind(Date);
    jest.spyOn(Date, 'now').mockImplementation(() => real() + 200_000);
    expect((await rp.agent.get('/api')).status).toBe(200);
    const refused = op.issued.at(-1)!;
    expect([refused.grant, bearerOfLastApiCall(), rp.errors]).toEqual(['refresh_token', loginTokens.access_token, []]);
  });
});
