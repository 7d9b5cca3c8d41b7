import type { JWTPayload } from 'jose';
import type { ProviderEndpoints } from '../protocol/discovery.js';
import { acceptRefreshedIdToken, assertAuthTime, loginIdTokenClaims, originalIdTokenClaims, verifyIdToken, type IdTokenExpectations } from '../protocol/id-token.js';
import { FAPI_JWS_ALGS } from '../protocol/jarm.js';
import type { TokenEndpointBody } from '../protocol/token-endpoint.js';
import { fromTokenResponse, type TokenSet } from '../protocol/token-set.js';
import { withIdToken } from '../session/record-format.js';
import type { TokenRecord } from '../session/token-record.js';
import type { ProviderLink } from './provider-link.js';

/**
 * The validate step of the token lifecycle, for every grant: the token response's shape
 * (token-set.ts) and the ID-token rules (OIDC Core §3.1.3.7 at login, §12.2 on refresh), and
 * what the token record keeps of an ID token. The one place these rules are applied.
 */

/** How ID tokens of this provider are verified, or undefined when its issuer or keys are unknown. */
function idTokenRules(link: ProviderLink, endpoints: ProviderEndpoints): IdTokenExpectations | undefined {
  const { issuer, jwksUri } = endpoints;
  const { clientId, allowedTenants, profile } = link.provider;
  if (!issuer || !jwksUri) return undefined;
  return { issuer, jwksUri, clientId, keys: link.keys, ...(allowedTenants ? { allowedTenants } : {}), ...(profile ? { algorithms: FAPI_JWS_ALGS } : {}) };
}

/**
 * Whether a login's token record keeps the raw ID token. It is needed only as `id_token_hint`
 * when logout continues at the provider's end-session endpoint (`idpLogout`); otherwise the record
 * keeps just the claims a refreshed ID token is checked against (the ID token is most of a
 * record: 596 of 821 characters for the test provider's).
 */
function keepsRawIdToken(idpLogout: boolean, endpoints: ProviderEndpoints): boolean {
  return idpLogout && endpoints.endSessionUrl !== undefined;
}

/** The validation step's context: the time, and the `idpLogout` option (what the record keeps). */
export interface ValidationContext {
  now: number;
  idpLogout: boolean;
}

/** What a login asked for that its ID token must answer. */
export interface LoginExpectations {
  nonce: string | undefined;
  /** The `max_age` sent (seconds): `auth_time` is checked against it. */
  maxAge: number | undefined;
}

/** A validated login: the tokens as received, the verified ID-token claims, and what the record keeps. */
export interface ValidatedLogin {
  tokens: TokenSet;
  claims: JWTPayload | undefined;
  stored: Omit<TokenRecord, 'v' | 'dpop'>;
}

/** Validate a code exchange's response: shape, then the ID token (signature, `iss`, `aud`, `nonce`, `exp`, `auth_time`). */
export async function validateLoginResponse(
  link: ProviderLink,
  endpoints: ProviderEndpoints,
  body: TokenEndpointBody,
  expected: LoginExpectations,
  context: ValidationContext,
): Promise<ValidatedLogin> {
  const { provider } = link;
  const tokens = fromTokenResponse(body, context.now, undefined, provider.defaultTokenType, provider.dpop);
  const rules = idTokenRules(link, endpoints);
  const claims = tokens.idToken && rules ? await verifyIdToken(tokens.idToken, { ...rules, nonce: expected.nonce }) : undefined;
  assertAuthTime(claims, expected.maxAge);
  const stored = withIdToken(tokens, keepsRawIdToken(context.idpLogout, endpoints) ? tokens.idToken : undefined, claims && originalIdTokenClaims(claims));
  return { tokens, claims, stored };
}

/** A validated refresh: the next record, and the verified refreshed ID token (for `onTokens`), if any. */
export interface ValidatedRefresh {
  next: TokenRecord;
  idToken: string | undefined;
}

/**
 * Validate a refresh response: shape (an omitted refresh token keeps the old one), then a
 * refreshed ID token against the login's (same `iss`, `sub`, `aud`, `azp`, signature, …). An ID
 * token that fails those rules refuses the whole response (`OAUTH_REFRESH_ID_TOKEN_INVALID`, 502):
 * none of its tokens is stored or used, the record keeps what it had.
 */
export async function validateRefreshResponse(link: ProviderLink, endpoints: ProviderEndpoints, body: TokenEndpointBody, current: TokenRecord, context: ValidationContext): Promise<ValidatedRefresh> {
  const { provider } = link;
  const tokens = fromTokenResponse(body, context.now, current.tokens, provider.defaultTokenType, provider.dpop);
  const original = loginIdTokenClaims(current.idTokenClaims, current.tokens.idToken);
  const idToken = await acceptRefreshedIdToken(typeof body.id_token === 'string' ? body.id_token : undefined, original, idTokenRules(link, endpoints));
  const kept = keepsRawIdToken(context.idpLogout, endpoints) ? (idToken ?? current.tokens.idToken) : undefined;
  const next: TokenRecord = { v: current.v + 1, ...withIdToken(tokens, kept, original), ...(current.dpop ? { dpop: current.dpop } : {}), ...(current.apis ? { apis: current.apis } : {}) };
  return { next, idToken };
}
