import { OAUTH_CODES, TokenEndpointError } from '../errors.js';

/** The tokens of one login, camelCase. Lives only in the session store, never in a cookie. */
export interface TokenSet {
  accessToken: string;
  /** Lower-case: `bearer`, or `dpop` (RFC 9449, with the `dpop` option). */
  tokenType: string;
  refreshToken?: string;
  /** Epoch milliseconds; absent when the provider gave no usable `expires_in` (never refreshed proactively). */
  expiresAt?: number;
  /**
   * Epoch milliseconds at which the token response arrived; with `expiresAt` it gives the token's
   * lifetime. Absent in records written before it existed (then only the leeway applies).
   */
  issuedAt?: number;
  scope?: string;
  idToken?: string;
}

/** Longest access, refresh or ID token accepted (characters). */
export const MAX_TOKEN_LENGTH = 16 * 1024;
/** Longest lifetime believed: `expires_in` above one year is clamped to it. */
export const MAX_LIFETIME_SECONDS = 365 * 24 * 3600;
/** RFC 6749 Appendix A VSCHAR (%x20-7E), 1 to 16 KiB: no CR, LF, NUL or non-ASCII. */
const VSCHARS = /^[\x20-\x7E]+$/;

function invalid(message: string): TokenEndpointError {
  return new TokenEndpointError(message, { status: 502, code: OAUTH_CODES.INVALID_TOKEN_RESPONSE });
}

/** True for a token we are willing to store and send: printable ASCII, 1 to 16 KiB. */
export function isWellFormedToken(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_TOKEN_LENGTH && VSCHARS.test(value);
}

/** An optional token field: absent (`undefined`, `null`, `''`) or well formed; anything else is a 502. */
function readOptionalToken(body: Record<string, unknown>, name: 'refresh_token' | 'id_token'): string | undefined {
  const value = body[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (!isWellFormedToken(value)) throw invalid(`The token endpoint returned a ${name} that is not 1 to 16384 printable ASCII characters.`);
  return value;
}

/**
 * `expires_in` in seconds, or undefined. RFC 6749 says `expires_in`; Stack Exchange says `expires`;
 * numeric strings occur too. Text is a 502. Fractions are cut to whole seconds (RFC 6749 says
 * seconds) and what is then ≤ 0 is treated as absent: 0 would refresh on every call and a rejection
 * would end a login over a field the token's validity does not depend on (a 401 `invalid_token`
 * still renews it). Values above one year, including Infinity from `1e309`, are clamped to one
 * year so that `expiresAt` stays a finite, storable number.
 */
export function readExpiresIn(body: Record<string, unknown>): number | undefined {
  const raw = body.expires_in ?? body.expires;
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d{1,400}$/.test(raw) ? Number(raw) : NaN;
  if (Number.isNaN(n)) throw invalid('The token endpoint returned a non-numeric expires_in.');
  const seconds = Math.min(Math.floor(n), MAX_LIFETIME_SECONDS);
  return seconds > 0 ? seconds : undefined;
}

function readTokenType(body: Record<string, unknown>, defaultTokenType: 'bearer' | undefined, dpop: boolean): 'bearer' | 'dpop' {
  const raw = body.token_type;
  // RFC 6749 §7.1: the type is case-insensitive. DPoP-bound tokens (RFC 9449) only with `dpop`
  // on: without it this client sends no proof, so it could not use one.
  const tokenType = typeof raw === 'string' ? raw.toLowerCase() : raw === undefined || raw === null ? defaultTokenType : undefined;
  if (tokenType === 'dpop' && dpop) return tokenType;
  if (tokenType !== 'bearer') throw invalid(dpop ? 'The token endpoint returned a token_type other than Bearer or DPoP.' : 'The token endpoint returned a token_type other than Bearer.');
  return tokenType;
}

/**
 * Validate a successful token-endpoint body (RFC 6749 §5.1) and turn it into a `TokenSet`.
 * Tokens must be 1 to 16 KiB of printable ASCII; failures are `TokenEndpointError` (502) whose
 * message never contains a token. A refresh response without `refresh_token` keeps the previous
 * one (RFC 6749 §6; Google does this).
 */
export function fromTokenResponse(body: Record<string, unknown>, now: number, previous?: TokenSet, defaultTokenType?: 'bearer', dpop = false): TokenSet {
  if (!isWellFormedToken(body.access_token)) {
    throw invalid(
      typeof body.access_token === 'string' && body.access_token.length > 0
        ? 'The token endpoint returned an access_token that is not 1 to 16384 printable ASCII characters.'
        : 'The token endpoint response has no access_token.',
    );
  }
  const tokenType = readTokenType(body, defaultTokenType, dpop);
  const expiresIn = readExpiresIn(body);
  const tokens: TokenSet = { accessToken: body.access_token, tokenType };
  const refreshToken = readOptionalToken(body, 'refresh_token') ?? previous?.refreshToken;
  if (refreshToken) tokens.refreshToken = refreshToken;
  if (expiresIn !== undefined) {
    tokens.expiresAt = now + expiresIn * 1000;
    tokens.issuedAt = now;
  }
  const scope = typeof body.scope === 'string' ? body.scope : previous?.scope;
  if (scope !== undefined) tokens.scope = scope;
  const idToken = readOptionalToken(body, 'id_token') ?? previous?.idToken;
  if (idToken) tokens.idToken = idToken;
  return tokens;
}

/**
 * True when the access token should be renewed now: it expires within `leewayMs`, or within half
 * its lifetime when that is shorter, so a token living no longer than the leeway is renewed once
 * per half-life rather than on every call. Never true without a finite `expiresAt` (records that
 * stored `null` for an infinite expiry included).
 */
export function isExpiring(tokens: Partial<TokenSet>, now: number, leewayMs: number): boolean {
  const { expiresAt, issuedAt } = tokens;
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) return false;
  const lifetime = typeof issuedAt === 'number' && issuedAt <= expiresAt ? expiresAt - issuedAt : undefined;
  const window = lifetime === undefined ? leewayMs : Math.min(leewayMs, lifetime / 2);
  return expiresAt - now < window;
}
