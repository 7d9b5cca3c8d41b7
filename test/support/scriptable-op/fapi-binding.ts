// How the scriptable FAPI 2.0 server authenticates its client and binds the tokens it issues, in
// the two variants of the FAPI 2.0 Security Profile client plan this package is tested in:
// private_key_jwt + DPoP (RFC 7523, RFC 9449, with server nonces) and tls_client_auth + mTLS-bound
// tokens (RFC 8705, `cnf.x5t#S256`: the SHA-256 of the client certificate).
import { createHash, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, importJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';
import { json, type IncomingCall, type Reply } from './serve';

/** A request bound to a key: its binding (JWK or certificate thumbprint), the DPoP proof's claims, headers for the answer. */
export interface Bound {
  binding: string;
  proof?: JWTPayload;
  headers?: Record<string, string>;
}

export interface SenderBinding {
  readonly variant: 'dpop' | 'mtls';
  /** The `token_type` issued, and the `Authorization` scheme the resource takes (any case). */
  readonly tokenType: string;
  /** Discovery members of this variant (`tls` is the TLS listener's origin, when there is one). */
  discovery(issuer: string, tls: string | undefined): Record<string, unknown>;
  authenticateClient(call: IncomingCall, issuer: string): Promise<boolean>;
  /** At the token endpoint: the binding of the token about to be issued, or the error answer. */
  atToken(call: IncomingCall): Promise<Bound | Reply>;
  /** At the resource: the binding the request proves, or the error answer (e.g. a nonce challenge). */
  atResource(call: IncomingCall, accessToken: string): Promise<Bound | Reply>;
}

export const isReply = (value: Bound | Reply): value is Reply => 'status' in value;

/** What a module changes in the DPoP variant. */
export interface DpopScript {
  /** `false`: no endpoint asks for a DPoP nonce (default: the token endpoint and the resource do). */
  dpopNonce?: boolean;
  /** The auth scheme of the resource's `use_dpop_nonce` challenge (default `DPoP`). */
  resourceChallengeScheme?: string;
}

const DPOP_MAX_AGE_SECONDS = 60;

export async function dpopBinding(clientId: string, clientPublicJwk: JWK, script: () => DpopScript) {
  const clientKey = await importJWK(clientPublicJwk, 'PS256');
  const seen = new Set<string>();
  // RFC 9449 §8, §9: the authorization server and the resource server keep their own nonces.
  const nonces = { token: `as-nonce-${randomBytes(12).toString('base64url')}`, resource: `rs-nonce-${randomBytes(12).toString('base64url')}` };
  const nonceHeader = (nonce: string): Record<string, string> => (script().dpopNonce === false ? {} : { 'dpop-nonce': nonce });

  /** RFC 9449 §4.3: the proof's claims and the thumbprint of its key, or the error. */
  async function checkProof(call: IncomingCall, nonce: string, accessToken?: string): Promise<{ claims: JWTPayload; jkt: string } | { error: string }> {
    const proof = call.headers.dpop as string | undefined;
    if (!proof) return { error: 'invalid_dpop_proof' };
    try {
      const header = decodeProtectedHeader(proof);
      if (header.typ !== 'dpop+jwt' || !header.jwk) return { error: 'invalid_dpop_proof' };
      const { payload } = await jwtVerify(proof, await importJWK(header.jwk, header.alg), { algorithms: ['ES256', 'PS256'], maxTokenAge: DPOP_MAX_AGE_SECONDS });
      if (payload.htm !== call.method || payload.htu !== `${call.origin}${call.path}` || typeof payload.jti !== 'string' || seen.has(payload.jti)) return { error: 'invalid_dpop_proof' };
      if (accessToken !== undefined && payload.ath !== createHash('sha256').update(accessToken).digest('base64url')) return { error: 'invalid_dpop_proof' };
      if (script().dpopNonce !== false && payload.nonce !== nonce) return { error: 'use_dpop_nonce' };
      seen.add(payload.jti);
      return { claims: payload, jkt: await calculateJwkThumbprint(header.jwk) };
    } catch {
      return { error: 'invalid_dpop_proof' };
    }
  }

  const binding: SenderBinding = {
    variant: 'dpop',
    tokenType: 'DPoP',
    discovery: () => ({
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['PS256', 'ES256'],
      dpop_signing_alg_values_supported: ['ES256', 'PS256'],
    }),
    async authenticateClient(call, issuer) {
      if (call.form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return false;
      try {
        const audience = [issuer, `${issuer}/token`, `${issuer}/par`];
        const { payload } = await jwtVerify(call.form.get('client_assertion') ?? '', clientKey, { issuer: clientId, subject: clientId, audience, algorithms: ['PS256'] });
        if (typeof payload.jti !== 'string' || seen.has(`ca:${payload.jti}`)) return false;
        seen.add(`ca:${payload.jti}`);
        return true;
      } catch {
        return false;
      }
    },
    async atToken(call) {
      const proof = await checkProof(call, nonces.token);
      if ('error' in proof) return json(400, { error: proof.error }, nonceHeader(nonces.token));
      return { binding: proof.jkt, proof: proof.claims, headers: nonceHeader(nonces.token) };
    },
    async atResource(call, accessToken) {
      const proof = await checkProof(call, nonces.resource, accessToken);
      if (!('error' in proof)) return { binding: proof.jkt, proof: proof.claims };
      const challenge = `${script().resourceChallengeScheme ?? 'DPoP'} error="${proof.error}", algs="ES256 PS256"`;
      return { status: 401, headers: { 'www-authenticate': challenge, ...nonceHeader(nonces.resource) } };
    },
  };
  return { binding, nonces };
}

/** RFC 8705 §2.1 `tls_client_auth` (the registered subject DN) and §3 certificate-bound tokens. */
export function mtlsBinding(clientId: string, subjectDn: string): { binding: SenderBinding } {
  const thumbprint = (call: IncomingCall) => (call.peer?.certificate && call.peer.authorized ? createHash('sha256').update(call.peer.certificate.raw).digest('base64url') : undefined);
  const binding: SenderBinding = {
    variant: 'mtls',
    tokenType: 'Bearer',
    discovery: (_issuer, tls) => ({
      token_endpoint_auth_methods_supported: ['tls_client_auth'],
      tls_client_certificate_bound_access_tokens: true,
      mtls_endpoint_aliases: { token_endpoint: `${tls}/token`, pushed_authorization_request_endpoint: `${tls}/par` },
    }),
    authenticateClient: async (call) => call.form.get('client_id') === clientId && thumbprint(call) !== undefined && call.peer?.certificate?.subject.split('\n').join(',') === subjectDn,
    async atToken(call) {
      const x5t = thumbprint(call);
      return x5t ? { binding: x5t } : json(401, { error: 'invalid_client' });
    },
    async atResource(call) {
      const x5t = thumbprint(call);
      return x5t ? { binding: x5t } : { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } };
    },
  };
  return { binding };
}
