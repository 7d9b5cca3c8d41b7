import { decodeJwt, type JWTPayload } from 'jose';
import type { IdTokenExpectations } from './id-token.js';
import { logoutTokenAlgs, verifyProviderJwt, type ProviderJwtError } from './jwks.js';

/** The `events` member that makes a JWT a logout token (OIDC Back-Channel Logout 1.0 §2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** Clock skew tolerated on `iat` and `exp`, in seconds. */
export const LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS = 5;
/** A logout token without `exp` is accepted this long after its `iat` (and its `jti` remembered as long). */
export const LOGOUT_TOKEN_MAX_AGE_SECONDS = 600;

/** What a logout token is checked against: the provider it claims to come from (as for its ID tokens), and the algorithms its ID tokens use. */
export type LogoutTokenExpectations = IdTokenExpectations & {
  /** Discovery's `id_token_signing_alg_values_supported`, when known (see `logoutTokenAlgs`). */
  idTokenSigningAlgs?: readonly string[] | undefined;
};

/** A verified logout token: whose sessions end, and until when its `jti` must be remembered. */
export interface LogoutRequest {
  sid: string | undefined;
  sub: string | undefined;
  jti: string;
  /** Epoch ms after which the token is no longer accepted (its `exp`, or `iat` + the max age). */
  acceptedUntil: number;
}

/** A logout token that failed a check; the route answers 400 `invalid_request`. */
export class InvalidLogoutTokenError extends Error {
  override name = 'InvalidLogoutTokenError';
}

/**
 * The `iss` and `aud` a logout token claims, before verification: to pick the provider to verify it
 * against (several configured clients may share an issuer; the token's `aud` names one of them).
 */
export function claimedIssuerAndAudience(token: string): { issuer: string; audience: readonly string[] } | undefined {
  try {
    const { iss, aud } = decodeJwt(token);
    if (typeof iss !== 'string') return undefined;
    const audience = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
    return { issuer: iss, audience };
  } catch {
    return undefined;
  }
}

function optionalString(payload: JWTPayload, claim: string): string | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new InvalidLogoutTokenError(`the ${claim} claim is not a string`);
  return value;
}

/**
 * Verify a logout token (OIDC Back-Channel Logout 1.0 §2.6): signature against the provider's
 * JWKS with an algorithm its ID tokens use (`logoutTokenAlgs`: never `none` or HS*), `iss`, `aud` containing the client, `iat` present and not in the future (5 s skew),
 * `exp` when present, `jti`, the back-channel logout event, no `nonce`, and `sid` and/or `sub`.
 * Replay of `jti` is the caller's check (it needs shared storage). Throws `InvalidLogoutTokenError`.
 */
export async function verifyLogoutToken(token: string, expected: LogoutTokenExpectations): Promise<LogoutRequest> {
  let payload: JWTPayload;
  try {
    payload = await verifyProviderJwt(token, {
      ...expected,
      audience: expected.clientId,
      requiredClaims: ['iat', 'jti'],
      clockToleranceSeconds: LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS,
      algorithms: logoutTokenAlgs(expected.idTokenSigningAlgs),
    });
  } catch (err) {
    throw new InvalidLogoutTokenError(`verification failed (${(err as ProviderJwtError).detail})`);
  }
  const nowMs = expected.currentDate?.getTime() ?? Date.now();
  const iat = payload.iat as number;
  if (iat > nowMs / 1000 + LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS) throw new InvalidLogoutTokenError('issued in the future (iat)');
  const acceptedUntil = (typeof payload.exp === 'number' ? payload.exp : iat + LOGOUT_TOKEN_MAX_AGE_SECONDS) * 1000 + LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS * 1000;
  if (acceptedUntil <= nowMs) throw new InvalidLogoutTokenError('too old (iat)');
  const events = payload.events as Record<string, unknown> | undefined;
  const event = typeof events === 'object' && events !== null && !Array.isArray(events) ? events[BACKCHANNEL_LOGOUT_EVENT] : undefined;
  if (typeof event !== 'object' || event === null || Array.isArray(event)) throw new InvalidLogoutTokenError('no back-channel logout event');
  if (payload.nonce !== undefined) throw new InvalidLogoutTokenError('a logout token must not carry a nonce');
  const jti = optionalString(payload, 'jti') as string;
  const sid = optionalString(payload, 'sid');
  const sub = optionalString(payload, 'sub');
  if (sid === undefined && sub === undefined) throw new InvalidLogoutTokenError('neither sid nor sub');
  return { sid, sub, jti, acceptedUntil };
}
