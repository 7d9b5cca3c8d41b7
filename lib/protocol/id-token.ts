import { decodeJwt, type JWTPayload } from 'jose';
import { isIssuerTemplate, isTenantId, tenantIssuer } from '../config/issuer-template.js';
import { OAUTH_CODES, OAuthError } from '../errors.js';
import { verifyProviderJwt, type ProviderJwtError, type RemoteKeySets } from './jwks.js';

/** Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. */
export const ID_TOKEN_CLOCK_TOLERANCE_SECONDS = 5;

/** What an ID token is checked against. */
export interface IdTokenExpectations {
  issuer: string;
  clientId: string;
  jwksUri: string;
  /** The provider's signing keys (its link's cache, fetched through its transport). */
  keys: RemoteKeySets;
  /** The verification time; defaults to now. */
  currentDate?: Date;
  /** With an issuer template: the only tenants (`tid`) accepted; undefined: every tenant. */
  allowedTenants?: ReadonlySet<string>;
  /** Accepted `alg` values; default every asymmetric one. A FAPI 2.0 profile narrows them to PS256, ES256 and EdDSA. */
  algorithms?: readonly string[];
}

function rejected(message: string, cause?: unknown): OAuthError {
  return new OAuthError(OAUTH_CODES.ID_TOKEN_INVALID, message, { status: 502, cause });
}

/**
 * The `iss` an ID token (or logout token) must carry: the configured issuer, or for an issuer template (multi-tenant
 * providers) the template with the token's own `tid` claim substituted. The claim is read before
 * the signature is checked, but only to build the expected value: the signature check then
 * authenticates both `tid` and `iss`, and a token whose `iss` is not its tenant's fails it.
 */
export function expectedIssuer(idToken: string, issuer: string): string {
  if (!isIssuerTemplate(issuer)) return issuer;
  let tid: unknown;
  try {
    tid = decodeJwt(idToken).tid;
  } catch (err) {
    throw rejected('The ID token is not a well-formed JWT.', err);
  }
  if (!isTenantId(tid)) throw rejected('The ID token has no valid tid claim, which a multi-tenant issuer needs to name its tenant.');
  return tenantIssuer(issuer, tid);
}

/**
 * The checks shared by login and refresh (OIDC Core §3.1.3.7): signature against the JWKS, `alg`
 * from it, `iss`, `aud` containing the client, `exp` and `iat` present, `exp` not passed, `iat`
 * not in the future (both with 5 s of skew), `sub` a string, and `azp` equal to the client when
 * present, required when there are several audiences.
 */
async function verifyCommon(idToken: string, expected: IdTokenExpectations): Promise<JWTPayload & { sub: string; iat: number }> {
  let payload: JWTPayload;
  const issuer = expectedIssuer(idToken, expected.issuer);
  try {
    payload = await verifyProviderJwt(idToken, { ...expected, issuer, audience: expected.clientId, requiredClaims: ['exp', 'iat'], clockToleranceSeconds: ID_TOKEN_CLOCK_TOLERANCE_SECONDS });
  } catch (err) {
    throw rejected(`The ID token failed verification (${(err as ProviderJwtError).detail}).`, (err as ProviderJwtError).cause);
  }
  const now = Math.floor((expected.currentDate?.getTime() ?? Date.now()) / 1000);
  const iat = payload.iat as number; // required and type-checked by jwtVerify
  if (iat > now + ID_TOKEN_CLOCK_TOLERANCE_SECONDS) throw rejected('The ID token was issued in the future (iat); check the server clocks.');
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw rejected('The ID token has no sub claim.');
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (payload.azp !== undefined && payload.azp !== expected.clientId) throw rejected('The ID token azp claim names another client.');
  if (audiences.length > 1 && payload.azp === undefined) throw rejected('The ID token has several audiences but no azp claim.');
  if (expected.allowedTenants && !expected.allowedTenants.has(payload.tid as string)) {
    throw new OAuthError(OAUTH_CODES.TENANT_NOT_ALLOWED, 'Accounts of your organization (tenant) cannot sign in to this application.', { status: 401, expose: true });
  }
  return payload as JWTPayload & { sub: string; iat: number };
}

/**
 * Verify the ID token of a login (OIDC Core §3.1.3.7): the shared checks above plus the `nonce`
 * of this login transaction. Returns the claims; throws `OAuthError` (`OAUTH_ID_TOKEN_INVALID`, 502).
 */
export async function verifyIdToken(idToken: string, expected: IdTokenExpectations & { nonce: string | undefined }): Promise<JWTPayload> {
  const payload = await verifyCommon(idToken, expected);
  if (expected.nonce !== undefined && payload.nonce !== expected.nonce) throw rejected('The ID token nonce does not match this login.');
  return payload;
}

/**
 * OIDC Core §3.1.2.1 and §3.1.3.7: when the login sent `max_age`, the verified ID token must carry
 * `auth_time`, no more than `max_age` seconds ago (plus the clock skew). Without a verified ID
 * token that cannot be confirmed, so the login is refused too. Throws `OAuthError`
 * (`OAUTH_ID_TOKEN_INVALID`, 502).
 */
export function assertAuthTime(claims: JWTPayload | undefined, maxAgeSeconds: number | undefined, now = Date.now()): void {
  if (maxAgeSeconds === undefined) return;
  const authTime = claims?.auth_time;
  if (typeof authTime !== 'number' || !Number.isFinite(authTime)) throw rejected('max_age was requested but there is no verified ID token with auth_time.');
  if (Math.floor(now / 1000) - authTime > maxAgeSeconds + ID_TOKEN_CLOCK_TOLERANCE_SECONDS) {
    throw rejected('The user authenticated longer ago than max_age allows (auth_time); log in again.');
  }
}

/** The claims of the login's ID token that a refreshed one must repeat (OIDC Core §12.2). */
export interface OriginalIdTokenClaims {
  iss: string;
  sub: string;
  /** When the login's token had `auth_time`, a refreshed one carrying it must carry the same value. */
  auth_time?: number;
  /** When the login's token had a `nonce`, a refreshed one carrying a nonce must repeat it (oidc-provider does). */
  nonce?: string;
  /** The provider session (`sid`), when the login's token had one: a later login of the same session continues the grant. Not compared at refresh. */
  sid?: string;
}

/** The claims of a verified login ID token that a refreshed one must repeat; undefined without `iss` and `sub`. */
export function originalIdTokenClaims(payload: Record<string, unknown>): OriginalIdTokenClaims | undefined {
  const { iss, sub, auth_time: authTime, nonce, sid } = payload;
  if (typeof iss !== 'string' || typeof sub !== 'string') return undefined;
  const claims: OriginalIdTokenClaims = { iss, sub };
  if (typeof authTime === 'number') claims.auth_time = authTime;
  if (typeof nonce === 'string') claims.nonce = nonce;
  if (typeof sid === 'string' && sid.length <= 256) claims.sid = sid;
  return claims;
}

/**
 * Verify an ID token returned by a refresh (OIDC Core §12.2): the same checks as at login except
 * that no fresh nonce is expected, and `iss`, `sub` (and `auth_time`, `nonce` when both carry
 * them) equal to the login's ID token. A different `sub` means the refresh token now speaks for another user.
 * Throws `OAuthError` (`OAUTH_ID_TOKEN_INVALID`, 502).
 */
export async function verifyRefreshedIdToken(idToken: string, expected: IdTokenExpectations & { original: OriginalIdTokenClaims }): Promise<JWTPayload> {
  const payload = await verifyCommon(idToken, expected);
  const { original } = expected;
  if (payload.iss !== original.iss) throw rejected('The refreshed ID token has another issuer than the login.');
  if (payload.sub !== original.sub) throw rejected('The refreshed ID token names another user (sub) than the login.');
  if (original.auth_time !== undefined && payload.auth_time !== undefined && payload.auth_time !== original.auth_time) {
    throw rejected('The refreshed ID token has another auth_time than the login.');
  }
  if (original.nonce !== undefined && payload.nonce !== undefined && payload.nonce !== original.nonce) {
    throw rejected('The refreshed ID token has another nonce than the login.');
  }
  return payload;
}

/**
 * The claims a refreshed ID token is checked against: those the login's record kept, else those
 * of the raw ID token it kept instead (a provider with an end-session endpoint, or a record of the
 * first format). Undefined when the login had no ID token.
 */
export function loginIdTokenClaims(kept: OriginalIdTokenClaims | undefined, rawIdToken: string | undefined): OriginalIdTokenClaims | undefined {
  if (kept) return kept;
  if (!rawIdToken) return undefined;
  try {
    return originalIdTokenClaims(decodeJwt(rawIdToken));
  } catch {
    return undefined;
  }
}

/**
 * The ID token of a refresh response, verified by the refresh rules against the login's claims
 * (OIDC Core §12.2); undefined when the response has none, or the login had no ID token to compare
 * with. An ID token that fails those rules refuses the whole response (issue 24 #0): its access and
 * refresh tokens speak for whoever the provider now names, so none of them is used. Throws
 * `OAuthError` (`OAUTH_REFRESH_ID_TOKEN_INVALID`, 502) with the failed check as its `cause`.
 */
export async function acceptRefreshedIdToken(received: string | undefined, original: OriginalIdTokenClaims | undefined, expected: IdTokenExpectations | undefined): Promise<string | undefined> {
  if (!received || !original || !expected) return undefined;
  try {
    await verifyRefreshedIdToken(received, { ...expected, original });
    return received;
  } catch (err) {
    const detail = err instanceof OAuthError ? err.message : 'The refreshed ID token failed verification.';
    throw new OAuthError(OAUTH_CODES.REFRESH_ID_TOKEN_INVALID, `The refresh response was refused: ${detail} The login keeps its previous tokens.`, { status: 502, cause: err });
  }
}
