import { expectAccepted, SHARED_MODULES, startFapiConformance, type FapiConformance } from '../support/scriptable-op/fapi-rp';

// OIDF FAPI 2.0 Security Profile RP (fapi2-security-profile-final-client-test-plan), the variant
// client_auth_type mtls + sender_constrain mtls (RFC 8705: tls_client_auth, certificate-bound
// tokens), OpenID Connect, plain authorization responses: one test per module that applies to it
// (the two DPoP modules do not), against the scriptable FAPI 2.0 server, whose token, PAR and
// resource endpoints are on a TLS listener that asks for the client certificate. The DPoP variant
// and what "refused" means: fapi2-security-profile-rp.test.ts.
let fc: FapiConformance;
beforeAll(async () => {
  fc = await startFapiConformance('mtls');
});
afterEach(() => fc.op.reset());
afterAll(() => fc.op.stop());

describe('OIDF FAPI 2.0 Security Profile RP (tls_client_auth + mTLS-bound tokens)', () => {
  it('fapi2-security-profile-final-client-test-happy-path: pushes the request to the mTLS alias with its certificate (no secret, no assertion), and calls the resource with the certificate-bound token and the same certificate', async () => {
    const { mark } = await expectAccepted(fc);
    const [par, token] = fc.op.requests.slice(mark).filter((r) => r.path === '/par' || r.path === '/token');
    expect([par!.origin, token!.origin]).toEqual([fc.op.tlsOrigin, fc.op.tlsOrigin]);
    expect([par!.form.get('client_id'), par!.form.has('client_assertion'), par!.form.has('client_secret'), par!.form.get('code_challenge_method')]).toEqual([fc.op.clientId, false, false, 'S256']);
    expect(token!.binding).toMatch(/^[A-Za-z0-9_-]{43}$/);
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

  it('fapi2-security-profile-final-client-test-token-type-case-insensitivity: accepts token_type "bEARER" and sends the token with the Bearer scheme', async () => {
    fc.op.script = { tokenResponse: (b) => ({ ...b, token_type: 'bEARER' }) };
    await expectAccepted(fc);
  });

  it('fapi2-security-profile-final-client-test-happy-path-no-mtls-endpoint-aliases: completes the flow when discovery names the TLS endpoints directly (no mtls_endpoint_aliases)', async () => {
    fc.op.script = {
      discovery: ({ mtls_endpoint_aliases: aliases, ...doc }) => ({
        ...doc,
        token_endpoint: (aliases as Record<string, string>).token_endpoint,
        pushed_authorization_request_endpoint: (aliases as Record<string, string>).pushed_authorization_request_endpoint,
      }),
    };
    const { mark } = await expectAccepted(fc);
    expect(
      fc.op.requests
        .slice(mark)
        .filter((r) => r.method === 'POST')
        .map((r) => r.origin),
    ).toEqual([fc.op.tlsOrigin, fc.op.tlsOrigin]);
  });
});
