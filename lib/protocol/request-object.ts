// RFC 9101 JWT-Secured Authorization Request (JAR): the authorization request parameters as the
// claims of a JWT the client signs, so the AS can tell they were not altered on the way.
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ClientAssertionKey } from '../config/options.js';

/** RFC 9101 §10.8 media type of a request object, sent as its `typ`. */
export const REQUEST_OBJECT_TYPE = 'oauth-authz-req+jwt';
/** Seconds a request object is valid: pushed at once, so short (FAPI 2.0 asks for `exp - nbf` ≤ 60 min). */
export const REQUEST_OBJECT_LIFETIME_SECONDS = 60;

/** Who signs a request object and for whom. */
export interface RequestObjectSigner {
  clientId: string;
  /** The AS issuer: the request object's `aud` (RFC 9101 §4). */
  audience: string;
  key: ClientAssertionKey;
}

/**
 * Sign the authorization request parameters as a request object (RFC 9101 §4; FAPI 2.0 Message
 * Signing §5.3): every parameter a claim (`max_age` as a number), plus `iss` = `client_id`, `aud`,
 * `iat`, `nbf`, `exp` 60 s later and a random `jti`, header `typ: oauth-authz-req+jwt`.
 */
export function signRequestObject(params: URLSearchParams, signer: RequestObjectSigner, now = Date.now()): Promise<string> {
  const claims: Record<string, unknown> = {};
  for (const [name, value] of params) claims[name] = name === 'max_age' && /^\d{1,10}$/.test(value) ? Number(value) : value;
  const iat = Math.floor(now / 1000);
  const { key, alg, kid } = signer.key;
  return new SignJWT({ ...claims, client_id: signer.clientId })
    .setProtectedHeader(kid ? { alg, typ: REQUEST_OBJECT_TYPE, kid } : { alg, typ: REQUEST_OBJECT_TYPE })
    .setIssuer(signer.clientId)
    .setAudience(signer.audience)
    .setJti(randomBytes(16).toString('base64url'))
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + REQUEST_OBJECT_LIFETIME_SECONDS)
    .sign(key);
}

/** The PAR body of a signed request (RFC 9126 §3): `client_id` and `request` only; client authentication is added by the caller. */
export async function requestObjectParams(params: URLSearchParams, signer: RequestObjectSigner): Promise<URLSearchParams> {
  return new URLSearchParams({ client_id: signer.clientId, request: await signRequestObject(params, signer) });
}
