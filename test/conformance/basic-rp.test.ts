import { startScriptableOp, USER_CLAIMS, type ScriptableOp } from '../support/scriptable-op/op';
import { loginAt, rpApp, rpOptions, sessionOf } from '../support/scriptable-op/rp';

// OIDF Basic RP (oidcc-client-basic-certification-test-plan, response_type code): each test is one
// module, named by its ID, against the scriptable provider. "Refused" means: the callback answers
// the error, no session is logged in, and nothing but the discovery and key fetches reached the
// provider after the token response (no UserInfo, no retry). CONFORMANCE.md lists them.
let op: ScriptableOp;
beforeAll(async () => {
  op = await startScriptableOp();
});
afterEach(() => op.reset());
afterAll(() => op.stop());

/** Provider calls from `mark` on, without the metadata fetches (discovery, JWKS) a new app makes. */
const calls = (mark: number) => op.since(mark).filter((c) => c !== 'GET /jwks' && c !== 'GET /.well-known/openid-configuration');

async function login(options: Record<string, unknown> = {}) {
  const rp = rpApp(rpOptions(op, options));
  const mark = op.requests.length;
  const callback = await loginAt(rp.agent);
  return { ...rp, callback, mark, session: await sessionOf(rp.agent) };
}

/** The login is refused: the error (its message, which the 502 page hides from the browser). */
async function expectRefused(options: Record<string, unknown> = {}, code = 'OAUTH_ID_TOKEN_INVALID'): Promise<string> {
  const { callback, mark, session, errors } = await login(options);
  expect([callback.status, callback.body.code, errors.map((e) => e.code)]).toEqual([502, code, [code]]);
  expect(session).toEqual({ authenticated: false, sub: null });
  expect(calls(mark)).toEqual(['GET /authorize', 'POST /token', ...(code === 'OAUTH_USERINFO_ERROR' ? ['GET /userinfo'] : [])]);
  return errors[0]!.message;
}

async function expectAccepted(options: Record<string, unknown> = {}) {
  const result = await login(options);
  expect([result.callback.status, result.session]).toEqual([303, { authenticated: true, sub: 'alice-0001' }]);
  return result;
}

describe('OIDF Basic RP', () => {
  it('rp-response_type-code: logs in with the code flow (response_type=code, scope openid, PKCE S256, nonce) and calls APIs with the access token in the Authorization header', async () => {
    const { agent, mark } = await expectAccepted();
    const authorize = op.requests.slice(mark).find((r) => r.path === '/authorize')!.query;
    expect([authorize.get('response_type'), authorize.get('scope'), authorize.get('code_challenge_method'), (authorize.get('nonce') ?? '').length >= 32]).toEqual([
      'code',
      'openid profile email',
      'S256',
      true,
    ]);
    expect((await agent.get('/api').expect(200)).body).toEqual({ sub: 'alice-0001' });
    const api = op.requests.at(-1)!;
    expect([api.path, /^Bearer at-/.test(api.authorization ?? ''), api.query.has('access_token')]).toEqual(['/api/me', true, false]);
  });

  it('rp-id_token-issuer-mismatch: refuses an ID token whose iss is not the discovered issuer', async () => {
    op.script = { idTokenClaims: (c) => ({ ...c, iss: 'https://op.example' }) };
    expect(await expectRefused()).toBe('The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: iss).');
  });

  it('rp-id_token-sub: refuses an ID token without sub', async () => {
    op.script = { idTokenClaims: (c) => ({ ...c, sub: undefined }) };
    expect(await expectRefused()).toBe('The ID token has no sub claim.');
  });

  it('rp-id_token-aud: refuses an ID token issued to another client (aud)', async () => {
    op.script = { idTokenClaims: (c) => ({ ...c, aud: 'another-client' }) };
    expect(await expectRefused()).toBe('The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: aud).');
  });

  it('rp-id_token-iat: refuses an ID token without iat', async () => {
    op.script = { idTokenClaims: (c) => ({ ...c, iat: undefined }) };
    expect(await expectRefused()).toBe('The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: iat).');
  });

  it('rp-id_token-kid-absent-single-jwks: accepts an ID token without kid when the JWKS has a single key', async () => {
    op.script = { idTokenSigning: () => ({ omitKid: true }) };
    await expectAccepted();
  });

  it('rp-id_token-kid-absent-multiple-jwks: refuses an ID token without kid when the JWKS has several RS256 keys (the plan allows refusing or trying each key)', async () => {
    const first = op.keys.signing;
    await op.rotate(true);
    op.keys.signing = first; // signed by the first of two published keys, no kid
    op.script = { idTokenSigning: () => ({ omitKid: true }) };
    expect(op.keys.published.length).toBe(2);
    expect(await expectRefused()).toBe('The ID token failed verification (ERR_JWKS_MULTIPLE_MATCHING_KEYS).');
  });

  it('rp-id_token-sig-rs256: accepts an RS256-signed ID token', async () => {
    op.script = { idTokenSigning: () => ({ alg: 'RS256' }) };
    await expectAccepted();
  });

  it('rp-id_token-sig-none: refuses an unsigned ID token (alg none), by design: the plan expects acceptance over TLS; see CONFORMANCE.md', async () => {
    op.script = { idTokenSigning: () => ({ alg: 'none' }) };
    expect(await expectRefused()).toBe('The ID token failed verification (ERR_JOSE_ALG_NOT_ALLOWED).');
  });

  it('rp-id_token-bad-sig-rs256: refuses an RS256 ID token whose signature does not verify', async () => {
    op.script = { idTokenSigning: () => ({ corruptSignature: true }) };
    expect(await expectRefused()).toBe('The ID token failed verification (ERR_JWS_SIGNATURE_VERIFICATION_FAILED).');
  });

  it('rp-userinfo-bad-sub-claim: refuses UserInfo claims of another sub (at login with fetchUserInfo, and from req.oauth.userinfo())', async () => {
    op.script = { userinfo: (c) => ({ ...c, sub: 'mallory-0666' }) };
    await expectRefused({ fetchUserInfo: true }, 'OAUTH_USERINFO_ERROR');
    op.reset();
    const { agent } = await expectAccepted();
    op.script = { userinfo: (c) => ({ ...c, sub: 'mallory-0666' }) };
    const res = await agent.get('/userinfo');
    expect([res.status, res.body.code, JSON.stringify(res.body).includes('mallory')]).toEqual([502, 'OAUTH_USERINFO_ERROR', false]);
  });

  it('rp-nonce-invalid: refuses an ID token whose nonce is not the one sent', async () => {
    op.script = { idTokenClaims: (c) => ({ ...c, nonce: 'a-nonce-the-rp-did-not-send' }) };
    expect(await expectRefused()).toBe('The ID token nonce does not match this login.');
  });

  it('rp-scope-userinfo-claims: asks for the profile and email scopes and gets their claims from UserInfo', async () => {
    const { agent, mark } = await expectAccepted({ fetchUserInfo: true });
    expect(calls(mark)).toEqual(['GET /authorize', 'POST /token', 'GET /userinfo']);
    const user = (await agent.get('/session')).body.user as Record<string, unknown>;
    expect([user.name, user.email, user.email_verified]).toEqual([USER_CLAIMS.name, USER_CLAIMS.email, true]);
  });

  it('rp-token_endpoint-client_secret_basic: authenticates at the token endpoint with HTTP Basic, the secret never in the body', async () => {
    const { mark } = await expectAccepted();
    const tokenRequest = op.requests.slice(mark).find((r) => r.path === '/token')!;
    const basic = Buffer.from(`${op.clientId}:${op.clientSecret}`).toString('base64');
    expect([tokenRequest.authorization, tokenRequest.form.has('client_secret'), tokenRequest.form.get('grant_type')]).toEqual([`Basic ${basic}`, false, 'authorization_code']);
  });

  it('an ID token signed with HS256 using the client secret is refused (the provider publishes asymmetric keys only)', async () => {
    op.script = { idTokenSigning: () => ({ alg: 'HS256', hmacSecret: op.clientSecret }) };
    expect(await expectRefused()).toBe('The ID token failed verification (ERR_JOSE_ALG_NOT_ALLOWED).');
  });
});
