// JWT Secured Authorization Response Mode (JARM, `response_mode=jwt`): the authorization response
// parameters arrive as the claims of a JWT the provider signed. It is verified before any of them
// is used, so a forged or altered response is refused before the transaction is claimed and with
// no token request (FAPI 2.0 Message Signing §5.4).
import { InvalidCallbackError, OAuthError } from '../errors.js';
import { ProviderJwtError, verifyProviderJwt, type RemoteKeySets } from './jwks.js';

/** Asymmetric JWS algs accepted for a JARM response (symmetric ones would need the client secret). */
export const JARM_ALGS = ['PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'RS256', 'RS384', 'RS512'];
/** Under a FAPI 2.0 profile, for every JWT the provider signs (JARM, ID tokens): FAPI 2.0 Security Profile §5.4.1. */
export const FAPI_JWS_ALGS = ['PS256', 'ES256', 'EdDSA'];
/** The response parameters a JARM JWT may carry (RFC 6749 §4.1.2, §4.1.2.1, RFC 9207). */
const RESPONSE_CLAIMS = ['code', 'state', 'error', 'error_description', 'error_uri', 'iss'];
/** Seconds of clock skew tolerated on `exp`. */
export const JARM_CLOCK_TOLERANCE_SECONDS = 30;
const MAX_RESPONSE_LENGTH = 16 * 1024;

/** Who must have signed the response, for whom, and with which keys. */
export interface JarmCheck {
  issuer: string;
  clientId: string;
  jwksUri: string;
  keys: RemoteKeySets;
  algorithms: string[];
}

function refused(why: string): InvalidCallbackError {
  return new InvalidCallbackError(`The JWT-secured authorization response was refused: ${why}.`);
}

/**
 * The authorization response inside a JARM callback (`?response=<JWT>` and nothing else),
 * verified: signature by the provider's keys with an allowed alg, `iss` = the issuer, `aud` = the
 * client id, `exp` in the future. Returns its response parameters (string claims only) for the
 * usual `state` / `iss` / `code` checks. Anything else is a 400 `InvalidCallbackError` that never
 * quotes the JWT; an unreachable JWKS stays a 502.
 */
export async function readJwtResponse(params: URLSearchParams, check: JarmCheck): Promise<URLSearchParams> {
  const responses = params.getAll('response');
  if (responses.length !== 1 || !responses[0] || responses[0].length > MAX_RESPONSE_LENGTH) throw refused('the callback must carry exactly one "response" parameter');
  for (const name of params.keys()) if (name !== 'response') throw refused(`"${name}" beside the signed response`);
  let claims: Record<string, unknown>;
  try {
    claims = await verifyProviderJwt(responses[0], {
      issuer: check.issuer,
      audience: check.clientId,
      jwksUri: check.jwksUri,
      keys: check.keys,
      requiredClaims: ['exp'],
      clockToleranceSeconds: JARM_CLOCK_TOLERANCE_SECONDS,
      algorithms: check.algorithms,
    });
  } catch (err) {
    if (err instanceof ProviderJwtError && err.cause instanceof OAuthError) throw err.cause;
    throw refused(err instanceof ProviderJwtError ? err.detail : 'it does not verify');
  }
  const inner = new URLSearchParams();
  for (const name of RESPONSE_CLAIMS) {
    const value = claims[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw refused(`its "${name}" claim is not a string`);
    inner.set(name, value);
  }
  return inner;
}
