import { DPOP_MODULES, SHARED_MODULES, startFapiConformance, type FapiConformance } from '../support/scriptable-op/fapi-rp';

// OIDF FAPI 2.0 Security Profile RP (fapi2-security-profile-final-client-test-plan), the variant
// private_key_jwt + DPoP, OpenID Connect, plain authorization responses: one test per module,
// named by its ID, against the scriptable FAPI 2.0 server (its token endpoint and resource each
// demand their own DPoP nonce). "Refused" means what the plan's "expect nothing after" modules
// check: the callback answers the error, nobody is logged in, and the RP sends nothing to the
// server after the faulty response. The mTLS variant: fapi2-security-profile-mtls-rp.test.ts.
let fc: FapiConformance;
beforeAll(async () => {
  fc = await startFapiConformance('dpop');
});
afterEach(() => fc.op.reset());
afterAll(() => fc.op.stop());

describe('OIDF FAPI 2.0 Security Profile RP (private_key_jwt + DPoP)', () => {
  it('fapi2-security-profile-final-client-test-happy-path: pushes the request (PAR, PKCE S256, client assertion), answers the DPoP nonce challenges of the token endpoint and the resource, and calls the resource with the DPoP-bound token', async () => {
    const mark = await DPOP_MODULES['happy-path'](fc);
    const par = fc.op.requests.slice(mark).find((r) => r.path === '/par')!.form;
    expect([par.get('code_challenge_method'), par.get('client_assertion_type'), par.has('client_secret')]).toEqual(['S256', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', false]);
  });

  it('fapi2-security-profile-final-client-test-discovery-issuer-mismatch: stops when the discovery document names another issuer', () => SHARED_MODULES['discovery-issuer-mismatch'](fc));

  it('fapi2-security-profile-final-client-test-invalid-iss: refuses an ID token whose iss is not the issuer', () => SHARED_MODULES['invalid-iss'](fc));

  it('fapi2-security-profile-final-client-test-invalid-aud: refuses an ID token for another client', () => SHARED_MODULES['invalid-aud'](fc));

  it('fapi2-security-profile-final-client-test-invalid-secondary-aud: refuses an ID token whose aud array adds an untrusted client (no azp)', () => SHARED_MODULES['invalid-secondary-aud'](fc));

  it('fapi2-security-profile-final-client-test-invalid-null-alg: refuses an unsigned (alg none) ID token', () => SHARED_MODULES['invalid-null-alg'](fc));

  it('fapi2-security-profile-final-client-test-invalid-alternate-alg: refuses an ID token signed with RS256 (FAPI 2.0 allows PS256, ES256, EdDSA)', () => SHARED_MODULES['invalid-alternate-alg'](fc));

  it('fapi2-security-profile-final-client-test-invalid-expired-exp: refuses an expired ID token', () => SHARED_MODULES['invalid-expired-exp'](fc));

  it('fapi2-security-profile-final-client-test-invalid-missing-exp: refuses an ID token without exp', () => SHARED_MODULES['invalid-missing-exp'](fc));

  it('fapi2-security-profile-final-client-test-invalid-missing-aud: refuses an ID token without aud', () => SHARED_MODULES['invalid-missing-aud'](fc));

  it('fapi2-security-profile-final-client-test-invalid-missing-iss: refuses an ID token without iss', () => SHARED_MODULES['invalid-missing-iss'](fc));

  it('fapi2-security-profile-final-client-test-valid-aud-as-array: accepts an ID token whose aud is an array holding only its client_id', () => SHARED_MODULES['valid-aud-as-array'](fc));

  it('fapi2-security-profile-final-client-test-invalid-nonce: refuses an ID token whose nonce is not the one sent', () => SHARED_MODULES['invalid-nonce'](fc));

  it('fapi2-security-profile-final-client-test-invalid-missing-nonce: refuses an ID token without the nonce it sent', () => SHARED_MODULES['invalid-missing-nonce'](fc));

  it('fapi2-security-profile-final-client-test-invalid-authorization-response-iss: refuses an authorization response whose iss is not the issuer, with no token request', () =>
    SHARED_MODULES['invalid-authorization-response-iss'](fc));

  it('fapi2-security-profile-final-client-test-remove-authorization-response-iss: refuses an authorization response without iss, with no token request', () =>
    SHARED_MODULES['remove-authorization-response-iss'](fc));

  it('fapi2-security-profile-final-client-test-ensure-authorization-response-with-invalid-state-fails: refuses an authorization response with another state, with no token request', () =>
    SHARED_MODULES['ensure-authorization-response-with-invalid-state-fails'](fc));

  it('fapi2-security-profile-final-client-test-ensure-authorization-response-with-invalid-missing-state-fails: refuses an authorization response without the state it sent, with no token request', () =>
    SHARED_MODULES['ensure-authorization-response-with-invalid-missing-state-fails'](fc));

  it('fapi2-security-profile-final-client-test-token-endpoint-response-without-expires_in: completes the flow when the token response has no expires_in', () =>
    SHARED_MODULES['token-endpoint-response-without-expires_in'](fc));

  it('fapi2-security-profile-final-client-test-token-type-case-insensitivity: accepts token_type "dPoP" and sends the token with the DPoP scheme', () =>
    DPOP_MODULES['token-type-case-insensitivity'](fc));

  it('fapi2-security-profile-final-client-test-rs-dpop-auth-scheme-case-insensitivity: repeats the resource request with the nonce after a use_dpop_nonce challenge whose scheme is "dPoP"', () =>
    DPOP_MODULES['rs-dpop-auth-scheme-case-insensitivity'](fc));

  it('fapi2-security-profile-final-client-test-happy-path-no-dpop-nonce: completes the flow against a server that asks for no DPoP nonce (one token request, proofs without nonce)', () =>
    DPOP_MODULES['happy-path-no-dpop-nonce'](fc));

  it('fapi2-security-profile-final-client-test-happy-path-no-mtls-endpoint-aliases: completes the flow against a server that publishes no mtls_endpoint_aliases (the DPoP variant never needs them)', () =>
    DPOP_MODULES['happy-path-no-mtls-endpoint-aliases'](fc));
});
