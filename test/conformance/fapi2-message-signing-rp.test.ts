import { decodeJwt } from 'jose';
import { DPOP_MODULES, SHARED_MODULES, startFapiConformance, type FapiConformance } from '../support/scriptable-op/fapi-rp';

// OIDF FAPI 2.0 Message Signing RP (fapi2-message-signing-final-client-test-plan), the variant
// private_key_jwt + DPoP with signed requests (JAR through PAR) and JARM responses, OpenID Connect:
// the plan's modules beside its JARM ones (those run against oidc-provider in fapi2-rp.test.ts),
// against the scriptable FAPI 2.0 server taking only request objects and answering with JARM. The
// two modules on the plain authorization response's `iss` do not apply to JARM. What "refused"
// means: fapi2-security-profile-rp.test.ts.
let fc: FapiConformance;
beforeAll(async () => {
  fc = await startFapiConformance('message-signing');
});
afterEach(() => fc.op.reset());
afterAll(() => fc.op.stop());

describe('OIDF FAPI 2.0 Message Signing RP (private_key_jwt + DPoP, JAR + JARM)', () => {
  it('fapi2-security-profile-final-client-test-happy-path: pushes a signed request object, reads the JARM response, answers the DPoP nonce challenges and calls the resource with the DPoP-bound token', async () => {
    const mark = await DPOP_MODULES['happy-path'](fc);
    const par = fc.op.requests.slice(mark).find((r) => r.path === '/par')!.form;
    expect([...par.keys()].sort()).toEqual(['client_assertion', 'client_assertion_type', 'client_id', 'request']);
    expect(decodeJwt(par.get('request')!)).toMatchObject({ iss: fc.op.clientId, aud: fc.op.issuer, client_id: fc.op.clientId, response_mode: 'jwt', code_challenge_method: 'S256' });
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

  it('fapi2-security-profile-final-client-test-ensure-authorization-response-with-invalid-state-fails: refuses a JARM response (validly signed) carrying another state, with no token request', () =>
    SHARED_MODULES['ensure-authorization-response-with-invalid-state-fails'](fc));

  it('fapi2-security-profile-final-client-test-ensure-authorization-response-with-invalid-missing-state-fails: refuses a JARM response (validly signed) without the state it sent, with no token request', () =>
    SHARED_MODULES['ensure-authorization-response-with-invalid-missing-state-fails'](fc));

  it('fapi2-security-profile-final-client-test-token-endpoint-response-without-expires_in: completes the flow when the token response has no expires_in', () =>
    SHARED_MODULES['token-endpoint-response-without-expires_in'](fc));

  it('fapi2-security-profile-final-client-test-token-type-case-insensitivity: accepts token_type "dPoP" and sends the token with the DPoP scheme', () =>
    DPOP_MODULES['token-type-case-insensitivity'](fc));

  it('fapi2-security-profile-final-client-test-rs-dpop-auth-scheme-case-insensitivity: repeats the resource request with the nonce after a use_dpop_nonce challenge whose scheme is "dPoP"', () =>
    DPOP_MODULES['rs-dpop-auth-scheme-case-insensitivity'](fc));

  it('fapi2-security-profile-final-client-test-happy-path-no-dpop-nonce: completes the flow against a server that asks for no DPoP nonce', () => DPOP_MODULES['happy-path-no-dpop-nonce'](fc));

  it('fapi2-security-profile-final-client-test-happy-path-no-mtls-endpoint-aliases: completes the flow against a server that publishes no mtls_endpoint_aliases', () =>
    DPOP_MODULES['happy-path-no-mtls-endpoint-aliases'](fc));
});
