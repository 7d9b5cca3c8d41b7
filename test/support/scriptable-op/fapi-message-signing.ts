// FAPI 2.0 Message Signing on the scriptable FAPI 2.0 server: the pushed authorization request as a
// signed request object (JAR, RFC 9101) and the authorization response as a signed JWT (JARM).
import { importJWK, jwtVerify, type JWK } from 'jose';
import { signJwt, type OpKey } from './keys';

export const MESSAGE_SIGNING_DISCOVERY = {
  request_object_signing_alg_values_supported: ['PS256', 'ES256'],
  require_signed_request_object: true,
  authorization_signing_alg_values_supported: ['PS256'],
  response_modes_supported: ['jwt', 'query.jwt'],
};

/** JAR: the parameters of a PAR body's `request` object, signed by the client's key for this issuer; undefined when it is not one. */
export async function readRequestObject(form: URLSearchParams, clientPublicJwk: JWK, clientId: string, issuer: string): Promise<URLSearchParams | undefined> {
  const jwt = form.get('request');
  if (!jwt) return undefined;
  try {
    const key = await importJWK(clientPublicJwk, 'PS256');
    const { payload } = await jwtVerify(jwt, key, { issuer: clientId, audience: issuer, algorithms: ['PS256'], requiredClaims: ['exp', 'nbf', 'jti'], typ: 'oauth-authz-req+jwt' });
    if (payload.client_id !== clientId || form.get('client_id') !== clientId) return undefined;
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(payload)) if (!['iss', 'aud', 'exp', 'nbf', 'iat', 'jti'].includes(k) && v !== undefined) params.set(k, String(v));
    return params;
  } catch {
    return undefined;
  }
}

/** JARM: the authorization response parameters as claims of a JWT the server signs (`iss`, `aud`, `exp` beside them). */
export function jarmResponse(params: URLSearchParams, key: OpKey, issuer: string, clientId: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({ iss: issuer, aud: clientId, exp: now + 120, ...Object.fromEntries([...params].filter(([k]) => k !== 'iss')) }, key);
}
