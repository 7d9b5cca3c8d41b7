import { OAUTH_CODES, TokenEndpointError } from '../errors.js';

/** The tokens of one login, camelCase. Lives only in the session store, never in a cookie. */
export interface TokenSet {
  accessToken: string;
  /** Lower-case, e.g. `bearer`. */
  tokenType: string;
  refreshToken?: string;
  /** Epoch milliseconds; absent when the provider gave no `expires_in` (never refreshed proactively). */
  expiresAt?: number;
  scope?: string;
  idToken?: string;
}

function invalid(message: string): TokenEndpointError {
  return new TokenEndpointError(message, { status: 502, code: OAUTH_CODES.INVALID_TOKEN_RESPONSE });
}

function readExpiresIn(body: Record<string, unknown>): number | undefined {
  // RFC 6749 says expires_in; Stack Exchange (and some others) say expires. Numeric strings occur too.
  const raw = body.expires_in ?? body.expires;
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n < 0) throw invalid('The token endpoint returned a non-numeric expires_in.');
  return n;
}

/**
 * Validate a successful token-endpoint body (RFC 6749 §5.1) and turn it into a `TokenSet`.
 * A refresh response without `refresh_token` keeps the previous one (RFC 6749 §6; Google does this).
 */
export function fromTokenResponse(body: Record<string, unknown>, now: number, previous?: TokenSet, defaultTokenType?: 'bearer'): TokenSet {
  if (typeof body.access_token !== 'string' || body.access_token.length === 0) {
    throw invalid('The token endpoint response has no access_token.');
  }
  const tokenType = typeof body.token_type === 'string' ? body.token_type.toLowerCase() : defaultTokenType;
  if (tokenType !== 'bearer') throw invalid('The token endpoint returned a token_type other than Bearer.');
  const expiresIn = readExpiresIn(body);
  const tokens: TokenSet = { accessToken: body.access_token, tokenType };
  const refreshToken = typeof body.refresh_token === 'string' && body.refresh_token ? body.refresh_token : previous?.refreshToken;
  if (refreshToken) tokens.refreshToken = refreshToken;
  if (expiresIn !== undefined) tokens.expiresAt = now + expiresIn * 1000;
  const scope = typeof body.scope === 'string' ? body.scope : previous?.scope;
  if (scope !== undefined) tokens.scope = scope;
  const idToken = typeof body.id_token === 'string' ? body.id_token : previous?.idToken;
  if (idToken) tokens.idToken = idToken;
  return tokens;
}

/** True when the access token expires within `leewayMs` (never when there is no expiry). */
export function isExpiring(tokens: TokenSet, now: number, leewayMs: number): boolean {
  return tokens.expiresAt !== undefined && tokens.expiresAt - now < leewayMs;
}

/** A copy safe to log or serialise: token values replaced by their presence. */
export function redactTokens(tokens: TokenSet | undefined): Record<string, unknown> | undefined {
  if (!tokens) return undefined;
  return {
    accessToken: '[redacted]',
    tokenType: tokens.tokenType,
    refreshToken: tokens.refreshToken ? '[redacted]' : undefined,
    idToken: tokens.idToken ? '[redacted]' : undefined,
    expiresAt: tokens.expiresAt,
    scope: tokens.scope,
  };
}
