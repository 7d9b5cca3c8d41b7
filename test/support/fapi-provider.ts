// The test provider in FAPI 2.0 mode (oidc-provider's `fapi` profile '2.0', PAR required, JAR,
// JARM, mTLS on a TLS listener) with the FAPI clients the tests log in as, and their options.
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import type { ProviderOptions } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from './authorization-server';
import { makeTestPki, type TestPki } from './test-certificates';
import { REDIRECT_URI } from './test-app';

export interface FapiProvider {
  as: TestAuthorizationServer;
  pki: TestPki;
  /** The client's private key (RSA 2048, kid `fapi-rsa`) as a JWK. */
  clientKey: Record<string, unknown>;
  /** `private_key_jwt` + DPoP (`fapi-dpop`): the FAPI 2.0 Security Profile. */
  dpopOptions(overrides?: Partial<ProviderOptions>): ProviderOptions;
  /** + JAR and JARM (`fapi-signed`): FAPI 2.0 Message Signing. */
  signedOptions(overrides?: Partial<ProviderOptions>): ProviderOptions;
  /** `tls_client_auth` + certificate-bound tokens (`fapi-mtls`), endpoints from discovery (the mTLS aliases). */
  mtlsOptions(overrides?: Partial<ProviderOptions>): ProviderOptions;
  /** `self_signed_tls_client_auth` + certificate-bound tokens (`fapi-mtls-self`): a self-signed certificate, registered by its key. */
  selfSignedMtlsOptions(overrides?: Partial<ProviderOptions>): ProviderOptions;
}

const PS256 = { token_endpoint_auth_signing_alg: 'PS256', id_token_signed_response_alg: 'PS256' };

export async function startFapiProvider(): Promise<FapiProvider> {
  const pki = makeTestPki();
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid: 'fapi-rsa', use: 'sig' };
  const clientKey = { ...privateKey.export({ format: 'jwk' }), kid: 'fapi-rsa' };
  const client = (id: string, extra: Record<string, unknown>) => ({
    client_id: id,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [REDIRECT_URI],
    ...extra,
  });
  const selfSigned = new X509Certificate(pki.selfSigned.cert);
  const selfSignedJwk = { ...selfSigned.publicKey.export({ format: 'jwk' }), x5c: [selfSigned.raw.toString('base64')] };
  const as = await startAuthorizationServer({
    redirectUris: [REDIRECT_URI],
    accessTokenTTL: 300,
    fapi: true,
    requestObjects: true,
    jwtResponseModes: true,
    requirePushedAuthorizationRequests: true,
    mtls: { key: pki.server.key, cert: pki.server.cert, ca: pki.ca },
    extraClients: [
      client('fapi-dpop', { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [publicJwk] }, dpop_bound_access_tokens: true, ...PS256 }),
      client('fapi-signed', {
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [publicJwk] },
        dpop_bound_access_tokens: true,
        authorization_signed_response_alg: 'PS256',
        request_object_signing_alg: 'PS256',
        ...PS256,
      }),
      client('fapi-mtls', {
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_subject_dn: pki.client.subjectDn,
        tls_client_certificate_bound_access_tokens: true,
        id_token_signed_response_alg: 'PS256',
      }),
      client('fapi-mtls-self', {
        token_endpoint_auth_method: 'self_signed_tls_client_auth',
        jwks: { keys: [selfSignedJwk] },
        tls_client_certificate_bound_access_tokens: true,
        id_token_signed_response_alg: 'PS256',
      }),
    ],
  });
  const base = (overrides: Partial<ProviderOptions>): ProviderOptions =>
    as.providerOptions({ clientSecret: undefined, endSessionUrl: undefined, redirectUri: REDIRECT_URI, profile: 'fapi2', ...overrides });
  const mtlsBase = {
    // From discovery: the mTLS aliases (RFC 8705 §5).
    tokenUrl: undefined,
    revocationUrl: undefined,
    apiBaseUrl: as.endpoints.mtls?.origin,
  };
  const jwtClient = { tokenEndpointAuthMethod: 'private_key_jwt' as const, clientAssertionKey: clientKey, clientAssertionAlg: 'PS256' as const, dpop: true };
  return {
    as,
    pki,
    clientKey,
    dpopOptions: (overrides = {}) => base({ clientId: 'fapi-dpop', ...jwtClient, ...overrides }),
    signedOptions: (overrides = {}) => base({ clientId: 'fapi-signed', ...jwtClient, profile: 'fapi2-message-signing', requestObjects: true, responseMode: 'jwt', ...overrides }),
    mtlsOptions: (overrides = {}) =>
      base({
        clientId: 'fapi-mtls',
        tokenEndpointAuthMethod: 'tls_client_auth',
        tlsClientCertificate: { cert: pki.client.cert, key: pki.client.key, ca: pki.ca },
        ...mtlsBase,
        ...overrides,
      }),
    selfSignedMtlsOptions: (overrides = {}) =>
      base({
        clientId: 'fapi-mtls-self',
        tokenEndpointAuthMethod: 'self_signed_tls_client_auth',
        // `ca` verifies the provider's server certificate; the client's own is self-signed.
        tlsClientCertificate: { cert: pki.selfSigned.cert, key: pki.selfSigned.key, ca: pki.ca },
        ...mtlsBase,
        ...overrides,
      }),
  };
}
