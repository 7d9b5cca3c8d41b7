import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { startFapiScriptableOp, type FapiScriptableOp } from '../support/scriptable-op/fapi-op';
import { loginAt, rpApp, RP_REDIRECT_URI, sessionOf } from '../support/scriptable-op/rp';

// OIDF FAPI 2.0 Security Profile RP (fapi2-security-profile-final-client-test-plan), the variant
// private_key_jwt + DPoP, OpenID Connect, plain authorization responses: one test per module,
// named by its ID, against the scriptable FAPI 2.0 server. "Refused" means what the plan's
// "expect nothing after" modules check: the callback answers the error, nobody is logged in, and
// the RP sends nothing to the server after the faulty response (no token request after a bad
// authorization response; no resource call after a bad ID token).
let op: FapiScriptableOp;
let clientKey: JWK;
beforeAll(async () => {
  const pair = await generateKeyPair('PS256', { extractable: true });
  clientKey = { ...(await exportJWK(pair.privateKey)), kid: 'rp-ps256' };
  op = await startFapiScriptableOp({ clientPublicJwk: await exportJWK(pair.publicKey) });
});
afterEach(() => op.reset());
afterAll(() => op.stop());

function fapiApp() {
  return rpApp({
    issuer: op.issuer,
    clientId: op.clientId,
    redirectUri: RP_REDIRECT_URI,
    scope: ['openid', 'profile'],
    apiBaseUrl: op.issuer,
    profile: 'fapi2',
    tokenEndpointAuthMethod: 'private_key_jwt',
    clientAssertionKey: clientKey,
    clientAssertionAlg: 'PS256',
    dpop: true,
  } as never);
}

async function login() {
  const rp = fapiApp();
  const mark = op.requests.length;
  const callback = await loginAt(rp.agent);
  return { ...rp, callback, mark, session: await sessionOf(rp.agent) };
}

/** PAR, the browser at /authorize, then the token request: once refused for the nonce, once with it (unless the server wants none). */
const LOGIN_CALLS = ['POST /par', 'GET /authorize', 'POST /token', 'POST /token'];

/** The login and a resource call succeed; the resource saw a DPoP-bound token and a proof with its own nonce. */
async function expectAccepted(tokenCalls = LOGIN_CALLS) {
  const result = await login();
  expect([result.callback.status, result.session]).toEqual([303, { authenticated: true, sub: 'alice-fapi' }]);
  expect(op.since(result.mark)).toEqual(tokenCalls);
  const api = await result.agent.get('/api');
  expect([api.status, api.body]).toEqual([200, { sub: 'alice-fapi' }]);
  const resource = op.requests.filter((r) => r.path === '/api/me').at(-1)!;
  expect([/^DPoP at-/.test(resource.authorization ?? ''), resource.dpop?.htm, resource.dpop?.nonce]).toEqual([true, 'GET', op.script.dpopNonce === false ? undefined : op.resourceNonce]);
  return result;
}

/** A faulty ID token: 502 with the code, no login, no resource call (nothing after the token response). */
async function expectIdTokenRefused(): Promise<string> {
  const { callback, mark, session, errors } = await login();
  expect([callback.status, callback.body.code, errors.map((e) => e.code)]).toEqual([502, 'OAUTH_ID_TOKEN_INVALID', ['OAUTH_ID_TOKEN_INVALID']]);
  expect(session).toEqual({ authenticated: false, sub: null });
  expect(op.since(mark)).toEqual(LOGIN_CALLS);
  return errors[0]!.message;
}

/** A faulty authorization response: 400, no login and no token request at all. */
async function expectAuthorizationResponseRefused(code = 'OAUTH_INVALID_CALLBACK'): Promise<string> {
  const { callback, mark, session } = await login();
  expect([callback.status, callback.body.code]).toEqual([400, code]);
  expect(session).toEqual({ authenticated: false, sub: null });
  expect(op.since(mark)).toEqual(['POST /par', 'GET /authorize']);
  return callback.body.message as string;
}

const RS256_SIGNING = () => ({ alg: 'RS256' as const });

describe('OIDF FAPI 2.0 Security Profile RP (private_key_jwt + DPoP)', () => {
  it('fapi2-security-profile-final-client-test-happy-path: pushes the request (PAR, PKCE S256, client assertion), answers the DPoP nonce challenges of the token endpoint and the resource, and calls the resource with the DPoP-bound token', async () => {
    const { mark } = await expectAccepted();
    const par = op.requests.slice(mark).find((r) => r.path === '/par')!.form;
    expect([par.get('code_challenge_method'), par.get('client_assertion_type'), par.has('client_secret')]).toEqual(['S256', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', false]);
    const [first, second] = op.requests.slice(mark).filter((r) => r.path === '/token');
    expect([first!.dpop, second!.dpop?.nonce]).toEqual([undefined, op.dpopNonce]);
    // The resource's first proof carries the authorization server's nonce (same origin), is challenged, and the retry carries the resource's.
    expect(
      op.requests
        .slice(mark)
        .filter((r) => r.path === '/api/me')
        .map((r) => r.dpop?.nonce),
    ).toEqual([undefined, op.resourceNonce]);
  });

  it('fapi2-security-profile-final-client-test-discovery-issuer-mismatch: stops when the discovery document names another issuer', async () => {
    op.script = { discovery: (doc) => ({ ...doc, issuer: 'https://other-issuer.example' }) };
    const { agent } = fapiApp();
    const mark = op.requests.length;
    const res = await agent.get('/login');
    expect([res.status, res.body.code]).toEqual([502, 'OAUTH_DISCOVERY_ERROR']);
    expect(op.requests.slice(mark).map((r) => `${r.method} ${r.path}`)).toEqual(['GET /.well-known/openid-configuration']);
    expect(await sessionOf(agent)).toEqual({ authenticated: false, sub: null });
  });

  it('fapi2-security-profile-final-client-test-invalid-iss: refuses an ID token whose iss is not the issuer', async () => {
    op.script = { idTokenClaims: (c) => ({ ...c, iss: 'https://attacker.example' }) };
    expect(await expectIdTokenRefused()).toBe('The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: iss).');
  });

  it('fapi2-security-profile-final-client-test-invalid-aud: refuses an ID token for another client', async () => {
    op.script = { idTokenClaims: (c) => ({ ...c, aud: 'another-client' }) };
    expect(await expectIdTokenRefused()).toBe('The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: aud).');
  });

  it('fapi2-security-profile-final-client-test-invalid-secondary-aud: refuses an ID token whose aud array adds an untrusted client (no azp)', async () => {
    op.script = { idTokenClaims: (c) => ({ ...c, aud: [op.clientId, 'untrusted-client'] }) };
    expect(await expectIdTokenRefused()).toBe('The ID token has several audiences but no azp claim.');
  });

  it('fapi2-security-profile-final-client-test-invalid-null-alg: refuses an unsigned (alg none) ID token', async () => {
    op.script = { idTokenSigning: () => ({ alg: 'none' }) };
    expect(await expectIdTokenRefused()).toBe('The ID token failed verification (ERR_JOSE_ALG_NOT_ALLOWED).');
  });

  it('fapi2-security-profile-final-client-test-invalid-alternate-alg: refuses an ID token signed with RS256 (FAPI 2.0 allows PS256, ES256, EdDSA)', async () => {
    op.script = { idTokenSigning: RS256_SIGNING };
    expect(await expectIdTokenRefused()).toBe('The ID token failed verification (ERR_JOSE_ALG_NOT_ALLOWED).');
  });

  it('fapi2-security-profile-final-client-test-invalid-expired-exp: refuses an expired ID token', async () => {
    op.script = { idTokenClaims: (c) => ({ ...c, exp: Math.floor(Date.now() / 1000) - 3600 }) };
    expect(await expectIdTokenRefused()).toBe('The ID token failed verification (ERR_JWT_EXPIRED: exp).');
  });

  it('fapi2-security-profile-final-client-test-invalid-missing-exp: refuses an ID token without exp', async () => {
    op.script = { idTokenClaims: (c) => ({ ...c, exp: undefined }) };
    expect(await expectIdTokenRefused()).toBe('The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: exp).');
  });

  it('fapi2-security-profile-final-client-test-invalid-missing-aud: refuses an ID token without aud', async () => {
    op.script = { idTokenClaims: (c) => ({ ...c, aud: undefined }) };
    expect(await expectIdTokenRefused()).toBe('The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: aud).');
  });

  it('fapi2-security-profile-final-client-test-invalid-missing-iss: refuses an ID token without iss', async () => {
    op.script = { idTokenClaims: (c) => ({ ...c, iss: undefined }) };
    expect(await expectIdTokenRefused()).toBe('The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: iss).');
  });

  it('fapi2-security-profile-final-client-test-valid-aud-as-array: accepts an ID token whose aud is an array holding only its client_id', async () => {
    op.script = { idTokenClaims: (c) => ({ ...c, aud: [op.clientId] }) };
    await expectAccepted();
  });

  it('fapi2-security-profile-final-client-test-invalid-nonce: refuses an ID token whose nonce is not the one sent', async () => {
    op.script = { idTokenClaims: (c) => ({ ...c, nonce: 'not-the-nonce-sent' }) };
    expect(await expectIdTokenRefused()).toBe('The ID token nonce does not match this login.');
  });

  it('fapi2-security-profile-final-client-test-invalid-missing-nonce: refuses an ID token without the nonce it sent', async () => {
    op.script = { idTokenClaims: (c) => ({ ...c, nonce: undefined }) };
    expect(await expectIdTokenRefused()).toBe('The ID token nonce does not match this login.');
  });

  it('fapi2-security-profile-final-client-test-invalid-authorization-response-iss: refuses an authorization response whose iss is not the issuer, with no token request', async () => {
    op.script = { authorizationResponse: (p) => new URLSearchParams({ ...Object.fromEntries(p), iss: 'https://attacker.example' }) };
    expect(await expectAuthorizationResponseRefused('OAUTH_MIX_UP')).toContain('iss');
  });

  it('fapi2-security-profile-final-client-test-remove-authorization-response-iss: refuses an authorization response without iss, with no token request', async () => {
    op.script = { authorizationResponse: (p) => new URLSearchParams([...p].filter(([k]) => k !== 'iss')) };
    expect(await expectAuthorizationResponseRefused('OAUTH_MIX_UP')).toContain('iss');
  });

  it('fapi2-security-profile-final-client-test-ensure-authorization-response-with-invalid-state-fails: refuses an authorization response with another state, with no token request', async () => {
    op.script = { authorizationResponse: (p) => new URLSearchParams({ ...Object.fromEntries(p), state: 'not-the-state-sent' }) };
    await expectAuthorizationResponseRefused();
  });

  it('fapi2-security-profile-final-client-test-ensure-authorization-response-with-invalid-missing-state-fails: refuses an authorization response without the state it sent, with no token request', async () => {
    op.script = { authorizationResponse: (p) => new URLSearchParams([...p].filter(([k]) => k !== 'state')) };
    await expectAuthorizationResponseRefused();
  });

  it('fapi2-security-profile-final-client-test-token-endpoint-response-without-expires_in: completes the flow when the token response has no expires_in', async () => {
    op.script = { tokenResponse: (b) => Object.fromEntries(Object.entries(b).filter(([k]) => k !== 'expires_in')) };
    const { agent } = await expectAccepted();
    // No expiry known: the token is used as it is, never refreshed ahead of time.
    await agent.get('/api').expect(200);
    expect(op.requests.filter((r) => r.form.get('grant_type') === 'refresh_token')).toEqual([]);
  });

  it('fapi2-security-profile-final-client-test-token-type-case-insensitivity: accepts token_type "dPoP" and sends the token with the DPoP scheme', async () => {
    op.script = { tokenResponse: (b) => ({ ...b, token_type: 'dPoP' }) };
    await expectAccepted();
  });

  it('fapi2-security-profile-final-client-test-rs-dpop-auth-scheme-case-insensitivity: repeats the resource request with the nonce after a use_dpop_nonce challenge whose scheme is "dPoP"', async () => {
    op.script = { resourceChallengeScheme: 'dPoP' };
    const { mark } = await expectAccepted();
    const resource = op.requests.slice(mark).filter((r) => r.path === '/api/me');
    expect(resource.map((r) => r.dpop?.nonce)).toEqual([undefined, op.resourceNonce]);
  });

  it('fapi2-security-profile-final-client-test-happy-path-no-dpop-nonce: completes the flow against a server that asks for no DPoP nonce (one token request, proofs without nonce)', async () => {
    op.script = { dpopNonce: false };
    await expectAccepted(['POST /par', 'GET /authorize', 'POST /token']);
  });

  it('fapi2-security-profile-final-client-test-happy-path-no-mtls-endpoint-aliases: completes the flow against a server that publishes no mtls_endpoint_aliases (the DPoP variant never needs them)', async () => {
    op.script = { discovery: (doc) => Object.fromEntries(Object.entries(doc).filter(([k]) => k !== 'mtls_endpoint_aliases')) };
    await expectAccepted();
  });
});
