import { originalIdTokenClaims, type OriginalIdTokenClaims } from '../protocol/id-token.js';
import { isDpopKey, type DpopKey } from '../protocol/dpop.js';
import type { TokenSet } from '../protocol/token-set.js';

/**
 * The token set of one login as the session store holds it (`<sid>:oauth:<provider>`), and what
 * the rest of the package sees of it. Reading accepts every format ever written, so sessions
 * logged in before an upgrade stay logged in; writing always uses the current, compact one.
 */
export interface TokenRecord {
  /** Incremented on every write; lets a waiter tell that another worker already refreshed. */
  v: number;
  tokens: TokenSet;
  /**
   * The claims of the login's ID token that a refreshed one must repeat (OIDC Core §12.2), kept
   * instead of the raw ID token when nothing needs it as `id_token_hint`.
   */
  idTokenClaims?: OriginalIdTokenClaims;
  /** RFC 9449: the login's DPoP key (private JWK), with the `dpop` option. Never leaves the store and the signer. */
  dpop?: DpopKey;
  /**
   * The login's tokens for other audiences (RFC 8707 per-API tokens, RFC 8693 exchanged tokens),
   * keyed by a digest of provider, grant, resource/audience and scope (api-token-keys.ts): never
   * by the refresh token alone (Duende CVE-2025-26620 handed one API's token to another that way).
   */
  apis?: Readonly<Record<string, ApiToken>>;
}

/** One per-API token of a login's record. */
export type ApiToken = Pick<TokenSet, 'accessToken' | 'tokenType' | 'expiresAt' | 'issuedAt' | 'scope'>;

/** A per-API token in the current format: access token, type only when not `bearer`, expiry, scope. */
export interface CompactApiToken {
  a: string;
  y?: string;
  e?: number;
  /** lifetime in ms, with `e` */
  l?: number;
  s?: string;
}

/**
 * The current format: one-letter keys, `tokenType` only when it is not `bearer`, the token
 * lifetime instead of `issuedAt`. With the ID token's claims instead of the ID token, a typical
 * OIDC login takes 323 characters where the first format took 941.
 */
export interface CompactTokens {
  v: number;
  /** access token */
  a: string;
  /** token type, only when not `bearer` */
  y?: string;
  /** refresh token */
  r?: string;
  /** expiresAt, epoch ms */
  e?: number;
  /** lifetime in ms (`expiresAt - issuedAt`) */
  l?: number;
  /** issuedAt, epoch ms: only when there is no `expiresAt` to derive it from */
  i?: number;
  /** scope */
  s?: string;
  /** raw ID token, only when kept for `id_token_hint` */
  d?: string;
  /** the login's ID-token claims a refreshed one must repeat */
  o?: OriginalIdTokenClaims;
  /** the login's DPoP key (`dpop` option) */
  k?: DpopKey;
  /** per-API tokens by key */
  p?: Record<string, CompactApiToken>;
}

/** The stored value: express-session stores expire a value by `cookie.expires`. */
export interface StoredRecord {
  cookie: { expires?: string | Date | null; originalMaxAge?: number | null };
  /** Current format. */
  t?: CompactTokens;
  /** First format (`{ v, tokens: TokenSet }`), still read. */
  oauthTokens?: { v: number; tokens: TokenSet; dpop?: DpopKey };
}

export type CookieLike = StoredRecord['cookie'];

const str = (x: unknown): x is string => typeof x === 'string';
const num = (x: unknown): x is number => typeof x === 'number';

/** The record in the current format, with the record's cookie (only its expiry: all a store reads). */
export function encodeRecord(record: TokenRecord, cookie: CookieLike): StoredRecord {
  const { tokens: k, idTokenClaims, dpop } = record;
  const t: CompactTokens = { v: record.v, a: k.accessToken };
  if (k.tokenType !== 'bearer') t.y = k.tokenType;
  if (k.refreshToken !== undefined) t.r = k.refreshToken;
  if (k.expiresAt !== undefined) t.e = k.expiresAt;
  if (num(k.issuedAt)) {
    if (num(k.expiresAt)) t.l = k.expiresAt - k.issuedAt;
    else t.i = k.issuedAt;
  }
  if (k.scope !== undefined) t.s = k.scope;
  if (k.idToken !== undefined) t.d = k.idToken;
  if (idTokenClaims) t.o = idTokenClaims;
  if (dpop) t.k = dpop;
  if (record.apis) {
    const p: Record<string, CompactApiToken> = {};
    for (const [key, token] of Object.entries(record.apis)) p[key] = encodeApiToken(token);
    if (Object.keys(p).length > 0) t.p = p;
  }
  return { cookie: { expires: cookie.expires ?? null }, t };
}

function encodeApiToken(token: ApiToken): CompactApiToken {
  const c: CompactApiToken = { a: token.accessToken };
  if (token.tokenType !== 'bearer') c.y = token.tokenType;
  if (token.expiresAt !== undefined) c.e = token.expiresAt;
  if (num(token.expiresAt) && num(token.issuedAt)) c.l = token.expiresAt - token.issuedAt;
  if (token.scope !== undefined) c.s = token.scope;
  return c;
}

function decodeApiTokens(p: unknown): Record<string, ApiToken> | undefined {
  if (typeof p !== 'object' || p === null) return undefined;
  const apis: Record<string, ApiToken> = {};
  for (const [key, c] of Object.entries(p as Record<string, CompactApiToken>)) {
    if (typeof c !== 'object' || c === null || !str(c.a)) continue;
    const token: ApiToken = { accessToken: c.a, tokenType: str(c.y) ? c.y : 'bearer' };
    if (num(c.e)) token.expiresAt = c.e;
    if (num(c.e) && num(c.l)) token.issuedAt = c.e - c.l;
    if (str(c.s)) token.scope = c.s;
    apis[key] = token;
  }
  return Object.keys(apis).length > 0 ? apis : undefined;
}

function decodeCompact(t: CompactTokens): TokenRecord | undefined {
  if (!num(t.v) || !str(t.a)) return undefined;
  const tokens: TokenSet = { accessToken: t.a, tokenType: str(t.y) ? t.y : 'bearer' };
  if (str(t.r)) tokens.refreshToken = t.r;
  if (num(t.e)) tokens.expiresAt = t.e;
  if (num(t.e) && num(t.l)) tokens.issuedAt = t.e - t.l;
  else if (num(t.i)) tokens.issuedAt = t.i;
  if (str(t.s)) tokens.scope = t.s;
  if (str(t.d)) tokens.idToken = t.d;
  const record: TokenRecord = { v: t.v, tokens };
  const claims = typeof t.o === 'object' && t.o !== null ? originalIdTokenClaims(t.o as unknown as Record<string, unknown>) : undefined;
  if (claims) record.idTokenClaims = claims;
  if (t.k !== undefined && isDpopKey(t.k)) record.dpop = t.k;
  const apis = decodeApiTokens(t.p);
  if (apis) record.apis = apis;
  return record;
}

/** The record of a stored value in any format, or undefined when there is none or it is malformed. */
export function decodeRecord(stored: StoredRecord | null | undefined): TokenRecord | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  if (typeof stored.t === 'object' && stored.t !== null) return decodeCompact(stored.t);
  const old = stored.oauthTokens;
  if (!old || !num(old.v) || !str(old.tokens?.accessToken)) return undefined;
  return old.dpop !== undefined && isDpopKey(old.dpop) ? { v: old.v, tokens: old.tokens, dpop: old.dpop } : { v: old.v, tokens: old.tokens };
}

/**
 * What a record keeps of an ID token: the raw one when given (it is needed as `id_token_hint`),
 * else only the login's `claims` that a refreshed ID token must repeat.
 */
export function withIdToken(tokens: TokenSet, raw: string | undefined, claims: OriginalIdTokenClaims | undefined): Omit<TokenRecord, 'v'> {
  const { idToken: _replaced, ...rest } = tokens;
  if (raw) return { tokens: { ...rest, idToken: raw } };
  return claims ? { tokens: rest, idTokenClaims: claims } : { tokens: rest };
}
