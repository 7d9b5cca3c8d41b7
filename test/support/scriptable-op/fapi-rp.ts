// The relying party of the FAPI 2.0 conformance tests (test/conformance/fapi2-security-profile-*):
// the package's middleware with `profile: 'fapi2'` against the scriptable FAPI 2.0 server, in the
// server's variant (private_key_jwt + DPoP, the same with JAR + JARM, or tls_client_auth + mTLS-bound
// tokens), and what the
// plan's modules assert of it: a login that works end to end, or a refusal after which nothing more
// reaches the server.
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { makeTestPki, type TestPki } from '../test-certificates';
import { startFapiScriptableOp, type FapiScriptableOp } from './fapi-op';
import { loginAt, rpApp, RP_REDIRECT_URI, sessionOf } from './rp';

export interface FapiConformance {
  op: FapiScriptableOp;
  /** The options of the RP for this variant. */
  options(): Record<string, unknown>;
}

/** The server and the RP's credentials for one variant (`message-signing`: DPoP with JAR and JARM). */
export async function startFapiConformance(variant: 'dpop' | 'message-signing' | 'mtls'): Promise<FapiConformance> {
  if (variant !== 'mtls') {
    const pair = await generateKeyPair('PS256', { extractable: true });
    const clientKey: JWK = { ...(await exportJWK(pair.privateKey)), kid: 'rp-ps256' };
    const signed = variant === 'message-signing';
    const op = await startFapiScriptableOp({ variant: 'dpop', clientPublicJwk: await exportJWK(pair.publicKey), messageSigning: signed });
    const messageSigning = signed ? { profile: 'fapi2-message-signing', requestObjects: true, responseMode: 'jwt' } : {};
    return {
      op,
      options: () => ({ ...base(op), apiBaseUrl: op.issuer, tokenEndpointAuthMethod: 'private_key_jwt', clientAssertionKey: clientKey, clientAssertionAlg: 'PS256', dpop: true, ...messageSigning }),
    };
  }
  const pki: TestPki = makeTestPki();
  const op = await startFapiScriptableOp({ variant, tls: { key: pki.server.key, cert: pki.server.cert, ca: pki.ca }, clientSubjectDn: pki.client.subjectDn });
  return {
    op,
    options: () => ({ ...base(op), apiBaseUrl: op.tlsOrigin, tokenEndpointAuthMethod: 'tls_client_auth', tlsClientCertificate: { cert: pki.client.cert, key: pki.client.key, ca: pki.ca } }),
  };
}

function base(op: FapiScriptableOp) {
  return { issuer: op.issuer, clientId: op.clientId, redirectUri: RP_REDIRECT_URI, scope: ['openid', 'profile'], profile: 'fapi2' };
}

export function fapiApp(fc: FapiConformance) {
  return rpApp(fc.options() as never);
}

export async function fapiLogin(fc: FapiConformance) {
  const rp = fapiApp(fc);
  const mark = fc.op.requests.length;
  const callback = await loginAt(rp.agent);
  return { ...rp, callback, mark, session: await sessionOf(rp.agent) };
}

/** PAR, the browser at /authorize, then the token request (DPoP: refused once for the nonce, then sent with it). */
export function loginCalls(fc: FapiConformance): string[] {
  const retry = fc.op.variant === 'dpop' && fc.op.script.dpopNonce !== false;
  return ['POST /par', 'GET /authorize', 'POST /token', ...(retry ? ['POST /token'] : [])];
}

/** The login and a resource call succeed, and the resource saw the token with the binding it was issued for. */
export async function expectAccepted(fc: FapiConformance) {
  const { op } = fc;
  const result = await fapiLogin(fc);
  expect([result.callback.status, result.session]).toEqual([303, { authenticated: true, sub: 'alice-fapi' }]);
  expect(op.since(result.mark)).toEqual(loginCalls(fc));
  const api = await result.agent.get('/api');
  expect([api.status, api.body]).toEqual([200, { sub: 'alice-fapi' }]);
  const resource = op.requests.filter((r) => r.path === '/api/me').at(-1)!;
  const token = op.requests.slice(result.mark).filter((r) => r.path === '/token' && r.binding !== undefined)[0]!;
  expect([resource.authorization?.split(' ')[0], resource.binding]).toEqual([op.variant === 'dpop' ? 'DPoP' : 'Bearer', token.binding]);
  if (op.variant === 'dpop') expect([resource.dpop?.htm, resource.dpop?.nonce]).toEqual(['GET', op.script.dpopNonce === false ? undefined : op.nonces!.resource]);
  return result;
}

/** A faulty ID token: 502 with the code, no login, nothing after the token response (no resource call). */
export async function expectIdTokenRefused(fc: FapiConformance): Promise<string> {
  const { callback, mark, session, errors } = await fapiLogin(fc);
  expect([callback.status, callback.body.code, errors.map((e) => e.code)]).toEqual([502, 'OAUTH_ID_TOKEN_INVALID', ['OAUTH_ID_TOKEN_INVALID']]);
  expect(session).toEqual({ authenticated: false, sub: null });
  expect(fc.op.since(mark)).toEqual(loginCalls(fc));
  return errors[0]!.message;
}

/** A faulty authorization response: 400, no login and no token request at all. */
export async function expectAuthorizationResponseRefused(fc: FapiConformance, code = 'OAUTH_INVALID_CALLBACK'): Promise<string> {
  const { callback, mark, session } = await fapiLogin(fc);
  expect([callback.status, callback.body.code]).toEqual([400, code]);
  expect(session).toEqual({ authenticated: false, sub: null });
  expect(fc.op.since(mark)).toEqual(['POST /par', 'GET /authorize']);
  return callback.body.message as string;
}

/** The discovery document names another issuer: 502 at /login, nothing but the discovery fetch. */
export async function expectDiscoveryRefused(fc: FapiConformance): Promise<void> {
  const { agent } = fapiApp(fc);
  const mark = fc.op.requests.length;
  const res = await agent.get('/login');
  expect([res.status, res.body.code]).toEqual([502, 'OAUTH_DISCOVERY_ERROR']);
  expect(fc.op.requests.slice(mark).map((r) => `${r.method} ${r.path}`)).toEqual(['GET /.well-known/openid-configuration']);
  expect(await sessionOf(agent)).toEqual({ authenticated: false, sub: null });
}

type Claims = Record<string, unknown>;
const idTokenFault = (change: (claims: Claims, fc: FapiConformance) => Claims, message: string) => async (fc: FapiConformance) => {
  fc.op.script = { idTokenClaims: (c) => change(c, fc) };
  expect(await expectIdTokenRefused(fc)).toBe(message);
};
const unsigned = (alg: 'none' | 'RS256') => async (fc: FapiConformance) => {
  fc.op.script = { idTokenSigning: () => ({ alg }) };
  expect(await expectIdTokenRefused(fc)).toBe('The ID token failed verification (ERR_JOSE_ALG_NOT_ALLOWED).');
};
const responseFault = (change: (params: URLSearchParams) => URLSearchParams, code?: string) => async (fc: FapiConformance) => {
  fc.op.script = { authorizationResponse: change };
  const message = await expectAuthorizationResponseRefused(fc, code);
  if (code === 'OAUTH_MIX_UP') expect(message).toContain('iss');
};
const withParam = (name: string, value: string) => (p: URLSearchParams) => new URLSearchParams({ ...Object.fromEntries(p), [name]: value });
const withoutParam = (name: string) => (p: URLSearchParams) => new URLSearchParams([...p].filter(([k]) => k !== name));
const claim = (name: string, value: unknown) => (c: Claims) => ({ ...c, [name]: value });

/**
 * The modules both variants share, by the plan's module name without its
 * `fapi2-security-profile-final-client-test-` prefix: each sets what the server changes and asserts
 * what the plan requires of the RP. The test files name one test per module (CONFORMANCE.md reads
 * their titles) and run these.
 */
export const SHARED_MODULES = {
  'discovery-issuer-mismatch': async (fc: FapiConformance) => {
    fc.op.script = { discovery: (doc) => ({ ...doc, issuer: 'https://other-issuer.example' }) };
    await expectDiscoveryRefused(fc);
  },
  'invalid-iss': idTokenFault(claim('iss', 'https://attacker.example'), 'The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: iss).'),
  'invalid-aud': idTokenFault(claim('aud', 'another-client'), 'The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: aud).'),
  'invalid-secondary-aud': idTokenFault((c, fc) => ({ ...c, aud: [fc.op.clientId, 'untrusted-client'] }), 'The ID token has several audiences but no azp claim.'),
  'invalid-null-alg': unsigned('none'),
  'invalid-alternate-alg': unsigned('RS256'),
  'invalid-expired-exp': idTokenFault((c) => ({ ...c, exp: Math.floor(Date.now() / 1000) - 3600 }), 'The ID token failed verification (ERR_JWT_EXPIRED: exp).'),
  'invalid-missing-exp': idTokenFault(claim('exp', undefined), 'The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: exp).'),
  'invalid-missing-aud': idTokenFault(claim('aud', undefined), 'The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: aud).'),
  'invalid-missing-iss': idTokenFault(claim('iss', undefined), 'The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: iss).'),
  'valid-aud-as-array': async (fc: FapiConformance) => {
    fc.op.script = { idTokenClaims: (c) => ({ ...c, aud: [fc.op.clientId] }) };
    await expectAccepted(fc);
  },
  'invalid-nonce': idTokenFault(claim('nonce', 'not-the-nonce-sent'), 'The ID token nonce does not match this login.'),
  'invalid-missing-nonce': idTokenFault(claim('nonce', undefined), 'The ID token nonce does not match this login.'),
  'invalid-authorization-response-iss': responseFault(withParam('iss', 'https://attacker.example'), 'OAUTH_MIX_UP'),
  'remove-authorization-response-iss': responseFault(withoutParam('iss'), 'OAUTH_MIX_UP'),
  'ensure-authorization-response-with-invalid-state-fails': responseFault(withParam('state', 'not-the-state-sent')),
  'ensure-authorization-response-with-invalid-missing-state-fails': responseFault(withoutParam('state')),
  'token-endpoint-response-without-expires_in': async (fc: FapiConformance) => {
    fc.op.script = { tokenResponse: (b) => Object.fromEntries(Object.entries(b).filter(([k]) => k !== 'expires_in')) };
    const { agent } = await expectAccepted(fc);
    // No expiry known: the token is used as it is, never refreshed ahead of time.
    await agent.get('/api').expect(200);
    expect(fc.op.requests.filter((r) => r.form.get('grant_type') === 'refresh_token')).toEqual([]);
  },
} satisfies Record<string, (fc: FapiConformance) => Promise<void>>;

/** The modules of the DPoP variants (with and without JAR + JARM), by the same short names. */
export const DPOP_MODULES = {
  /** PAR with PKCE S256 and a client assertion, the DPoP nonce challenges of the token endpoint and the resource answered once each. */
  'happy-path': async (fc: FapiConformance) => {
    const { mark } = await expectAccepted(fc);
    const [first, second] = fc.op.requests.slice(mark).filter((r) => r.path === '/token');
    expect([first!.dpop, second!.dpop?.nonce]).toEqual([undefined, fc.op.nonces!.token]);
    // The resource's first proof carries the authorization server's nonce (same origin), is challenged, and the retry carries the resource's.
    const resource = fc.op.requests.slice(mark).filter((r) => r.path === '/api/me');
    expect(resource.map((r) => r.dpop?.nonce)).toEqual([undefined, fc.op.nonces!.resource]);
    return mark;
  },
  'token-type-case-insensitivity': async (fc: FapiConformance) => {
    fc.op.script = { tokenResponse: (b) => ({ ...b, token_type: 'dPoP' }) };
    await expectAccepted(fc);
  },
  'rs-dpop-auth-scheme-case-insensitivity': async (fc: FapiConformance) => {
    fc.op.script = { resourceChallengeScheme: 'dPoP' };
    const { mark } = await expectAccepted(fc);
    const resource = fc.op.requests.slice(mark).filter((r) => r.path === '/api/me');
    expect(resource.map((r) => r.dpop?.nonce)).toEqual([undefined, fc.op.nonces!.resource]);
  },
  'happy-path-no-dpop-nonce': async (fc: FapiConformance) => {
    fc.op.script = { dpopNonce: false };
    const { mark } = await expectAccepted(fc);
    expect(fc.op.since(mark).slice(0, 3)).toEqual(['POST /par', 'GET /authorize', 'POST /token']);
    const proofs = fc.op.requests.slice(mark).filter((r) => r.dpop !== undefined);
    expect(proofs.map((r) => [r.path, r.dpop!.nonce])).toEqual([
      ['/token', undefined],
      ['/api/me', undefined],
    ]);
  },
  'happy-path-no-mtls-endpoint-aliases': async (fc: FapiConformance) => {
    fc.op.script = { discovery: (doc) => Object.fromEntries(Object.entries(doc).filter(([k]) => k !== 'mtls_endpoint_aliases')) };
    await expectAccepted(fc);
  },
} satisfies Record<string, (fc: FapiConformance) => Promise<unknown>>;
