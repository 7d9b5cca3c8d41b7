import type { JWTPayload } from 'jose';
import { loginWithoutBrowser } from 'express-oauth2-session/testing';
import type { OpScript, ScriptableOp } from '../support/scriptable-op/op';
import { startScriptableOp, USER_CLAIMS } from '../support/scriptable-op/op';
import { rpApp, rpOptions, sessionOf } from '../support/scriptable-op/rp';

// OIDF Form Post RP (oidcc-client-formpost-basic-certification-test-plan): the Basic RP modules with
// `responseMode: 'form_post'`. The scriptable provider answers /authorize with its auto-submitting
// form; the test kit POSTs it to the callback with the login's binding cookie. Each module changes
// what basic-rp.test.ts changes and expects what it expects.
let op: ScriptableOp;
beforeAll(async () => {
  op = await startScriptableOp();
});
afterEach(() => op.reset());
afterAll(() => op.stop());

const calls = (mark: number) => op.since(mark).filter((c) => c !== 'GET /jwks' && c !== 'GET /.well-known/openid-configuration');

async function login(options: Record<string, unknown> = {}) {
  const rp = rpApp(rpOptions(op, { responseMode: 'form_post', ...options }));
  const mark = op.requests.length;
  const callback = await loginWithoutBrowser(rp.agent);
  return { ...rp, callback, mark, session: await sessionOf(rp.agent) };
}

async function expectAccepted(options: Record<string, unknown> = {}) {
  const result = await login(options);
  expect([result.callback.status, result.session]).toEqual([303, { authenticated: true, sub: 'alice-0001' }]);
  const authorize = op.requests.slice(result.mark).find((r) => r.path === '/authorize')!.query;
  expect([authorize.get('response_mode'), authorize.get('response_type')]).toEqual(['form_post', 'code']);
  return result;
}

/** Refused: the error (code, message), no session, nothing after the token response but what the module needs. */
async function expectRefused(options: Record<string, unknown> = {}, code = 'OAUTH_ID_TOKEN_INVALID'): Promise<string> {
  const { callback, mark, session, errors } = await login(options);
  expect([callback.status, callback.body.code, errors.map((e) => e.code)]).toEqual([502, code, [code]]);
  expect(session).toEqual({ authenticated: false, sub: null });
  expect(calls(mark)).toEqual(['GET /authorize', 'POST /token', ...(code === 'OAUTH_USERINFO_ERROR' ? ['GET /userinfo'] : [])]);
  return errors[0]!.message;
}

const claims = (change: (c: JWTPayload) => JWTPayload): OpScript => ({ idTokenClaims: change });

describe('OIDF Form Post RP', () => {
  it('rp-response_type-code: logs in with the code flow, the authorization response POSTed to the callback', async () => {
    const { agent, mark } = await expectAccepted();
    expect(calls(mark)).toEqual(['GET /authorize', 'POST /token']);
    expect((await agent.get('/api').expect(200)).body).toEqual({ sub: 'alice-0001' });
  });

  it('rp-id_token-issuer-mismatch: refuses an ID token whose iss is not the discovered issuer', async () => {
    op.script = claims((c) => ({ ...c, iss: 'https://op.example' }));
    expect(await expectRefused()).toBe('The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: iss).');
  });

  it('rp-id_token-sub: refuses an ID token without sub', async () => {
    op.script = claims((c) => ({ ...c, sub: undefined }));
    expect(await expectRefused()).toBe('The ID token has no sub claim.');
  });

  it('rp-id_token-aud: refuses an ID token issued to another client (aud)', async () => {
    op.script = claims((c) => ({ ...c, aud: 'another-client' }));
    expect(await expectRefused()).toBe('The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: aud).');
  });

  it('rp-id_token-iat: refuses an ID token without iat', async () => {
    op.script = claims((c) => ({ ...c, iat: undefined }));
    expect(await expectRefused()).toBe('The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: iat).');
  });

  it('rp-id_token-sig-none: refuses an unsigned ID token (alg none), by design: the plan expects acceptance over TLS; see CONFORMANCE.md', async () => {
    op.script = { idTokenSigning: () => ({ alg: 'none' }) };
    expect(await expectRefused()).toBe('The ID token failed verification (ERR_JOSE_ALG_NOT_ALLOWED).');
  });

  it('rp-id_token-bad-sig-rs256: refuses an RS256 ID token whose signature does not verify', async () => {
    op.script = { idTokenSigning: () => ({ corruptSignature: true }) };
    expect(await expectRefused()).toBe('The ID token failed verification (ERR_JWS_SIGNATURE_VERIFICATION_FAILED).');
  });

  it('rp-nonce-invalid: refuses an ID token whose nonce is not the one sent', async () => {
    op.script = claims((c) => ({ ...c, nonce: 'a-nonce-the-rp-did-not-send' }));
    expect(await expectRefused()).toBe('The ID token nonce does not match this login.');
  });

  it('rp-id_token-kid-absent-single-jwks: accepts an ID token without kid when the JWKS has a single key', async () => {
    op.script = { idTokenSigning: () => ({ omitKid: true }) };
    await expectAccepted();
  });

  it('rp-id_token-kid-absent-multiple-jwks: refuses an ID token without kid when the JWKS has several RS256 keys', async () => {
    const first = op.keys.signing;
    await op.rotate(true);
    op.keys.signing = first;
    op.script = { idTokenSigning: () => ({ omitKid: true }) };
    expect(await expectRefused()).toBe('The ID token failed verification (ERR_JWKS_MULTIPLE_MATCHING_KEYS).');
  });

  it('rp-id_token-sig-rs256: accepts an RS256-signed ID token', async () => {
    op.script = { idTokenSigning: () => ({ alg: 'RS256' }) };
    await expectAccepted();
  });

  it('rp-userinfo-bad-sub-claim: refuses UserInfo claims of another sub at login (fetchUserInfo)', async () => {
    op.script = { userinfo: (c) => ({ ...c, sub: 'mallory-0666' }) };
    await expectRefused({ fetchUserInfo: true }, 'OAUTH_USERINFO_ERROR');
  });

  it('rp-scope-userinfo-claims: asks for profile and email and gets their claims from UserInfo', async () => {
    const { agent, mark } = await expectAccepted({ fetchUserInfo: true });
    expect(calls(mark)).toEqual(['GET /authorize', 'POST /token', 'GET /userinfo']);
    const user = (await agent.get('/session')).body.user as Record<string, unknown>;
    expect([user.name, user.email]).toEqual([USER_CLAIMS.name, USER_CLAIMS.email]);
  });

  it('rp-token_endpoint-client_secret_basic: authenticates at the token endpoint with HTTP Basic', async () => {
    const { mark } = await expectAccepted();
    const tokenRequest = op.requests.slice(mark).find((r) => r.path === '/token')!;
    const basic = Buffer.from(`${op.clientId}:${op.clientSecret}`).toString('base64');
    expect([tokenRequest.authorization, tokenRequest.form.has('client_secret')]).toEqual([`Basic ${basic}`, false]);
  });
});
