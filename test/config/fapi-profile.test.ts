import { generateKeyPairSync } from 'node:crypto';
import { resolveConfig } from '../../lib/config/resolve';
import type { OAuthMiddlewareOptions } from '../../lib/config/options';
import { makeTestPki } from '../support/test-certificates';

// `profile: 'fapi2' | 'fapi2-message-signing'`: each rule of the FAPI 2.0 Security Profile (and of
// Message Signing) a client can break is refused at startup by a TypeError that names the option
// path and the rule; and the options they build on (requestObjects, responseMode, tlsClientCertificate).
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'jwk' });
const pki = makeTestPki();
const certificate = { cert: pki.client.cert, key: pki.client.key };

/** A configuration that obeys every rule: private_key_jwt with PS256, DPoP, issuer. */
const fapi2 = {
  clientId: 'c',
  issuer: 'https://as.example',
  redirectUri: 'https://app.example/callback',
  tokenEndpointAuthMethod: 'private_key_jwt',
  clientAssertionKey: rsa,
  clientAssertionAlg: 'PS256',
  dpop: true,
  profile: 'fapi2',
};
const signed = { ...fapi2, profile: 'fapi2-message-signing', requestObjects: true, responseMode: 'jwt' };
const resolve = (options: Record<string, unknown>) => resolveConfig(options as unknown as OAuthMiddlewareOptions).single!;
const thrown = (options: Record<string, unknown>) => {
  try {
    resolve(options);
  } catch (err) {
    const e = err as TypeError & { code: string; path: string; rule?: string };
    return { type: e.constructor.name, code: e.code, path: e.path, rule: e.rule, message: e.message };
  }
  throw new Error('no TypeError');
};

describe('profile: fapi2 accepted configurations', () => {
  it('should turn PAR and the required `iss` check on, keep PKCE, and resolve the profile', () => {
    const p = resolve(fapi2);
    expect([p.profile, p.pushedAuthorizationRequests, p.authorizationResponseIssParameterSupported, p.pkce, p.dpop]).toEqual(['fapi2', true, true, true, true]);
  });

  it('should accept mTLS client authentication with certificate-bound tokens instead of DPoP', () => {
    const p = resolve({ ...fapi2, tokenEndpointAuthMethod: 'tls_client_auth', clientAssertionKey: undefined, clientAssertionAlg: undefined, dpop: undefined, tlsClientCertificate: certificate });
    expect([p.tokenEndpointAuthMethod, p.tlsClientCertificate?.cert, p.dpop]).toEqual(['tls_client_auth', pki.client.cert, false]);
  });

  it("should accept 'fapi2-message-signing' with JAR (PS256 for the RSA key) and JARM", () => {
    const p = resolve(signed);
    expect([p.profile, p.requestObjectKey?.alg, p.responseMode, p.pushedAuthorizationRequests]).toEqual(['fapi2-message-signing', 'PS256', 'jwt', true]);
  });
});

describe('profile: one TypeError per rule, naming the rule and the option', () => {
  it.each<[string, string, Record<string, unknown>, string]>([
    ['fapi2.issuer', 'issuer', { ...fapi2, issuer: undefined, authorizationUrl: 'https://as.example/a', tokenUrl: 'https://as.example/t' }, 'is required'],
    ['fapi2.par', 'pushedAuthorizationRequests', { ...fapi2, pushedAuthorizationRequests: false }, 'cannot be false: FAPI 2.0 sends every authorization request with PAR'],
    ['fapi2.pkce', 'pkce', { ...fapi2, pkce: false }, 'cannot be false: FAPI 2.0 requires PKCE with S256'],
    [
      'fapi2.client-auth',
      'tokenEndpointAuthMethod',
      { ...fapi2, tokenEndpointAuthMethod: 'client_secret_basic', clientSecret: 's', clientAssertionKey: undefined, clientAssertionAlg: undefined },
      'is "client_secret_basic"',
    ],
    ['fapi2.client-auth', 'tokenEndpointAuthMethod', { ...fapi2, tokenEndpointAuthMethod: undefined, clientAssertionKey: undefined, clientAssertionAlg: undefined }, 'is "none"'],
    ['fapi2.sender-constrained', 'dpop', { ...fapi2, dpop: false }, 'must be true unless `tlsClientCertificate` is set'],
    ['fapi2.algorithms', 'clientAssertionAlg', { ...fapi2, clientAssertionAlg: 'RS256' }, 'is RS256: FAPI 2.0 allows only PS256, ES256, EdDSA'],
    ['fapi2.iss-check', 'authorizationResponseIssParameterSupported', { ...fapi2, authorizationResponseIssParameterSupported: false }, 'cannot be false'],
    ['fapi2-message-signing.jar', 'requestObjects', { ...signed, requestObjects: undefined }, 'must be true'],
    ['fapi2-message-signing.jarm', 'responseMode', { ...signed, responseMode: 'query' }, 'is "query": FAPI 2.0 Message Signing requires "jwt" (JARM)'],
  ])('%s: should refuse a bad `%s` (case %#)', (rule, path, options, problem) => {
    const err = thrown(options);
    expect([err.type, err.code, err.path, err.rule]).toEqual(['TypeError', 'ERR_OAUTH_CONFIG', path, rule]);
    expect(err.message).toContain(`oauthMiddleware: \`${path}\` ${problem}`);
    expect(err.message).toContain(`[profile "${String(options.profile)}", rule ${rule}]`);
  });

  it('should refuse an unknown profile', () => {
    expect(thrown({ ...fapi2, profile: 'fapi1' }).message).toBe('oauthMiddleware: `profile` must be one of "fapi2", "fapi2-message-signing"');
  });

  it('should name the provider in the path with several providers', () => {
    const { clientId: _c, redirectUri: _r, ...rest } = fapi2;
    const err = thrown({ providers: { bank: { ...rest, clientId: 'c', redirectUri: 'https://app.example/callback', pkce: false } } });
    expect([err.path, err.rule]).toEqual(['providers.bank.pkce', 'fapi2.pkce']);
  });
});

describe('requestObjects, responseMode, tlsClientCertificate', () => {
  const plain = { clientId: 'c', clientSecret: 's', issuer: 'https://as.example', redirectUri: 'https://app.example/callback' };
  it('should sign request objects with a dedicated key and default PAR on', () => {
    const p = resolve({ ...plain, requestObjects: true, requestObjectSigningKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) });
    expect([p.requestObjectKey?.alg, p.pushedAuthorizationRequests, p.responseMode]).toEqual(['ES256', true, 'query']);
  });

  it.each<[string, Record<string, unknown>]>([
    ['`requestObjectSigningKey` is required with `requestObjects` unless `clientAssertionKey` is set', { requestObjects: true }],
    ['`requestObjectSigningKey` signs with ES384; request objects need PS256 (RSA), ES256 (P-256) or EdDSA (Ed25519)', { requestObjects: true, requestObjectSigningKey: ec384 }],
    ['`pushedAuthorizationRequests` cannot be false with `requestObjects`', { requestObjects: true, requestObjectSigningKey: rsa, pushedAuthorizationRequests: false }],
    ['`requestObjectSigningKey` is used only with `requestObjects: true`', { requestObjectSigningKey: rsa }],
    ['`requestObjects` must be a boolean', { requestObjects: 'yes' }],
    ['`responseMode` must be one of', { responseMode: 'fragment' }],
    ['`tlsClientCertificate` is required with tokenEndpointAuthMethod "tls_client_auth"', { tokenEndpointAuthMethod: 'tls_client_auth', clientSecret: undefined }],
    ['`clientSecret` is not used with tokenEndpointAuthMethod "self_signed_tls_client_auth"', { tokenEndpointAuthMethod: 'self_signed_tls_client_auth', tlsClientCertificate: certificate }],
    ['`tlsClientCertificate.cert` is not a PEM X.509 certificate', { tlsClientCertificate: { cert: 'nope', key: pki.client.key } }],
    ['`tlsClientCertificate.key` is not the private key of `tlsClientCertificate.cert`', { tlsClientCertificate: { cert: pki.client.cert, key: pki.other.key } }],
    ['`tlsClientCertificate.pass` is not an option', { tlsClientCertificate: { ...certificate, pass: 'x' } }],
    ['`fetch` cannot be used with `tlsClientCertificate` (provider "default")', { tlsClientCertificate: certificate, fetch: async () => new Response() }],
  ])('should throw %s', (message, extra) => {
    expect(thrown({ ...plain, ...extra }).message).toContain(`oauthMiddleware: ${message}`);
  });

  it('should refuse responseMode "jwt" without an issuer (nothing to verify against)', () => {
    const err = thrown({ clientId: 'c', clientSecret: 's', authorizationUrl: 'https://as.example/a', tokenUrl: 'https://as.example/t', redirectUri: 'https://app.example/cb', responseMode: 'jwt' });
    expect(err.message).toBe('oauthMiddleware: `responseMode` "jwt" needs `issuer`: the response is verified against its keys');
  });
});
