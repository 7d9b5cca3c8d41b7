// Options that secure the messages of a login beyond the plain OAuth 2.0 code flow: JAR (RFC 9101)
// signed request objects and RFC 8705 mutual TLS (JARM is a response mode: response-mode.ts).
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { assertObject, assertOptionalBoolean, type OptionPath } from './assert.js';
import { resolvePrivateSigningKey } from './client-assertion-key.js';
import { assertKnownKeys, TLS_CLIENT_CERTIFICATE_KEYS } from './option-keys.js';
import type { ClientAssertionAlg, ClientAssertionKey, PemInput, ProviderOptions, TlsClientCertificate, TokenEndpointAuthMethod } from './options.js';

/** The JWS algs a request object is signed with (FAPI 2.0 Message Signing §5.4: PS256, ES256, EdDSA). */
export const REQUEST_OBJECT_ALGS: readonly ClientAssertionAlg[] = ['PS256', 'ES256', 'EdDSA'];
/** The RFC 8705 client authentication methods: the TLS client certificate is the credential. */
export const MTLS_AUTH_METHODS: ReadonlySet<TokenEndpointAuthMethod> = new Set(['tls_client_auth', 'self_signed_tls_client_auth']);

/** What `resolveMessageSecurity` returns: the JAR key and the TLS client certificate. */
export interface MessageSecurity {
  requestObjectKey: ClientAssertionKey | undefined;
  tlsClientCertificate: Readonly<TlsClientCertificate> | undefined;
}

type MessageSecurityOptions = Pick<
  ProviderOptions,
  'requestObjects' | 'requestObjectSigningKey' | 'tlsClientCertificate' | 'clientAssertionKey' | 'clientSecret' | 'issuer' | 'pushedAuthorizationRequests'
>;

function isPem(value: unknown): value is PemInput {
  return (typeof value === 'string' && value.length > 0) || (Buffer.isBuffer(value) && value.length > 0);
}

/** `tlsClientCertificate`: a parseable X.509 certificate and a private key that belongs to it. */
function resolveTlsClientCertificate(value: unknown, at: OptionPath): Readonly<TlsClientCertificate> | undefined {
  if (value === undefined) return undefined;
  assertObject(value, at);
  assertKnownKeys(value, TLS_CLIENT_CERTIFICATE_KEYS, at);
  const { cert, key, ca } = value as Partial<TlsClientCertificate>;
  if (!isPem(cert)) throw at.key('cert').error('must be the client certificate as a PEM string or Buffer');
  if (!isPem(key)) throw at.key('key').error("must be the certificate's private key as a PEM string or Buffer");
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw at.key('cert').error('is not a PEM X.509 certificate');
  }
  try {
    if (!certificate.checkPrivateKey(createPrivateKey(key))) throw new Error('mismatch');
  } catch {
    throw at.key('key').error('is not the private key of `tlsClientCertificate.cert`');
  }
  const cas = ca === undefined ? [] : Array.isArray(ca) ? ca : [ca];
  cas.forEach((one, i) => {
    if (!isPem(one)) throw at.key('ca').key(i).error('must be a PEM certificate string or Buffer');
  });
  return Object.freeze({ cert, key, ...(ca === undefined ? {} : { ca }) });
}

/**
 * `requestObjects` (+ `requestObjectSigningKey`) and `tlsClientCertificate` of one
 * provider. JAR needs `issuer` (the request object's `aud`, and PAR's endpoint) and a signing key:
 * `requestObjectSigningKey`, else the `private_key_jwt` key. The mTLS methods need the certificate.
 */
export function resolveMessageSecurity(input: MessageSecurityOptions, method: TokenEndpointAuthMethod, at: OptionPath): MessageSecurity {
  assertOptionalBoolean(input.requestObjects, at.key('requestObjects'));
  let requestObjectKey: ClientAssertionKey | undefined;
  if (input.requestObjects) {
    if (!input.issuer) throw at.key('requestObjects').error('needs `issuer`: the request object is addressed to it and pushed to its PAR endpoint');
    if (input.pushedAuthorizationRequests === false) throw at.key('pushedAuthorizationRequests').error('cannot be false with `requestObjects`: request objects are sent with PAR');
    const keyInput = input.requestObjectSigningKey ?? input.clientAssertionKey;
    const keyAt = at.key(input.requestObjectSigningKey === undefined ? 'clientAssertionKey' : 'requestObjectSigningKey');
    if (keyInput === undefined) throw at.key('requestObjectSigningKey').error('is required with `requestObjects` unless `clientAssertionKey` is set (a private JWK, PEM string or KeyObject)');
    // RSA keys sign request objects with PS256 whatever their client-assertion alg (RS256 is not allowed).
    requestObjectKey = resolvePrivateSigningKey(keyInput, keyAt, (supported) => {
      const alg = supported.includes('PS256') ? 'PS256' : supported[0];
      if (!alg || !REQUEST_OBJECT_ALGS.includes(alg)) throw keyAt.error(`signs with ${supported.join('/')}; request objects need PS256 (RSA), ES256 (P-256) or EdDSA (Ed25519)`);
      return alg;
    });
  } else if (input.requestObjectSigningKey !== undefined) {
    throw at.key('requestObjectSigningKey').error('is used only with `requestObjects: true`; set it or remove the key');
  }
  const tlsClientCertificate = resolveTlsClientCertificate(input.tlsClientCertificate, at.key('tlsClientCertificate'));
  if (MTLS_AUTH_METHODS.has(method)) {
    if (!tlsClientCertificate) throw at.key('tlsClientCertificate').error(`is required with tokenEndpointAuthMethod "${method}" (the certificate is the credential)`);
    if (input.clientSecret !== undefined) throw at.key('clientSecret').error(`is not used with tokenEndpointAuthMethod "${method}"; remove it`);
  }
  return { requestObjectKey, tlsClientCertificate };
}
