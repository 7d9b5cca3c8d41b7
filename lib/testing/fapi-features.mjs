// FAPI 2.0 mode of the test provider: oidc-provider's `fapi` profile '2.0', signed request objects
// (JAR), JWT-secured responses (JARM) and mutual TLS (RFC 8705) on a second, TLS listener that asks
// every client for its certificate. Used by provider.mjs; options are JSON (they cross processes).
import https from 'node:https';

/** oidc-provider signs JARM responses and ID tokens of FAPI clients with PS256: the same RSA key, published for that alg too. */
export function fapiSigningKeys(jwk, opts) {
  if (!opts.fapi && !opts.jwtResponseModes) return [jwk];
  return [jwk, { ...jwk, alg: 'PS256', kid: 'harness-ps256' }];
}

/**
 * The oidc-provider features of the FAPI options.
 * @param {{ fapi?: boolean, requestObjects?: boolean, jwtResponseModes?: boolean, mtls?: object }} opts
 */
export function fapiFeatures(opts) {
  const features = {};
  if (opts.fapi) features.fapi = { enabled: true, profile: '2.0' };
  if (opts.requestObjects) features.requestObjects = { enabled: true, requireSignedRequestObject: false };
  if (opts.jwtResponseModes) features.jwtResponseModes = { enabled: true };
  if (opts.mtls) {
    features.mTLS = {
      enabled: true,
      certificateBoundAccessTokens: true,
      tlsClientAuth: true,
      selfSignedTlsClientAuth: true,
      // Only the TLS listener has peer certificates; on the plain one there is none.
      getCertificate: (ctx) => ctx.req.socket.getPeerX509Certificate?.() ?? undefined,
      certificateAuthorized: (ctx) => ctx.req.socket.authorized === true,
      certificateSubjectMatches: (ctx, property, expected) => {
        const cert = ctx.req.socket.getPeerX509Certificate?.();
        if (!cert || property !== 'tls_client_auth_subject_dn') return false;
        return cert.subject.split('\n').join(',') === expected;
      },
    };
  }
  return features;
}

/** oidc-provider's default client authentication methods, plus the two of RFC 8705. */
export const MTLS_CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_jwt', 'client_secret_post', 'private_key_jwt', 'none', 'tls_client_auth', 'self_signed_tls_client_auth'];

/** The paths oidc-provider serves that RFC 8705 clients reach on the TLS listener (`mtls_endpoint_aliases`). */
const ALIASED = {
  token_endpoint: '/token',
  revocation_endpoint: '/token/revocation',
  userinfo_endpoint: '/me',
  pushed_authorization_request_endpoint: '/request',
  introspection_endpoint: '/token/introspection',
};

/**
 * Start the TLS listener of `opts.mtls` (`{ key, cert, ca }`: the server's key and certificate, and
 * the CA whose client certificates it verifies), forwarding every request to `server`'s handlers.
 * Resolves with its origin and the discovery aliases.
 */
export function startMtlsListener(server, host, mtls) {
  const tls = https.createServer({ key: mtls.key, cert: mtls.cert, ca: mtls.ca, requestCert: true, rejectUnauthorized: false }, (req, res) => server.emit('request', req, res));
  return new Promise((resolve, reject) => {
    tls.once('error', reject);
    tls.listen(0, host, () => {
      tls.off('error', reject);
      const origin = `https://${host.includes(':') ? `[${host}]` : host}:${tls.address().port}`;
      const aliases = Object.fromEntries(Object.entries(ALIASED).map(([name, path]) => [name, `${origin}${path}`]));
      resolve({ tls, origin, aliases });
    });
  });
}
