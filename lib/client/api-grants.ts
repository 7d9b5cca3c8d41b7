import { createHash } from 'node:crypto';
import type { ResolvedApi } from '../config/resolved.js';
import { OAUTH_CODES, ReauthenticationRequiredError } from '../errors.js';
import { TOKEN_EXCHANGE_GRANT } from '../protocol/token-endpoint.js';
import { fromTokenResponse, isExpiring } from '../protocol/token-set.js';
import type { ApiToken } from '../session/record-format.js';
import type { TokenRecord } from '../session/token-record.js';
import type { LoginGrant } from './login-grants.js';
import type { ProviderLink } from './provider-link.js';

/** RFC 8693 §3: the type of an access token given as `subject_token` / `actor_token`. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** What `req.oauth.exchange()` and `apis.<name>.exchange` ask for (RFC 8693 §2.1). */
export interface ExchangeRequest {
  audience?: string;
  resource?: string;
  scope?: string | readonly string[];
  requestedTokenType?: string;
  /** Default: the login's access token. */
  subjectToken?: string;
  subjectTokenType?: string;
  actorToken?: string;
  actorTokenType?: string;
}

const EXCHANGE_KEYS = ['audience', 'resource', 'scope', 'requestedTokenType', 'subjectToken', 'subjectTokenType', 'actorToken', 'actorTokenType'] as const;

/** `req.oauth.exchange(request)`'s argument, checked: known keys, non-empty strings (`scope` may be an array). Throws `TypeError`. */
export function readExchangeRequest(request: unknown): ExchangeRequest {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) throw new TypeError('req.oauth.exchange: the request must be an object');
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(request)) {
    if (value === undefined) continue;
    if (!(EXCHANGE_KEYS as readonly string[]).includes(key)) throw new TypeError(`req.oauth.exchange: \`${key}\` is not an option (${EXCHANGE_KEYS.join(', ')})`);
    const ok = key === 'scope' && Array.isArray(value) ? value.every((s) => typeof s === 'string' && s.length > 0 && !/\s/.test(s)) : typeof value === 'string' && value.length > 0;
    if (!ok) throw new TypeError(`req.oauth.exchange: \`${key}\` must be a non-empty string${key === 'scope' ? ' or an array of scopes' : ''}`);
    out[key] = value;
  }
  return out as ExchangeRequest;
}

const digest = (parts: ReadonlyArray<string | undefined>): string =>
  createHash('sha256')
    .update(parts.map((p) => p ?? '\u0000').join('\n'))
    .digest('base64url')
    .slice(0, 16);

/**
 * The key of a per-API token in the login's record: a digest of provider, grant, resource (or
 * audience) and scope, and for an exchange every parameter that changes the token. Two APIs with
 * the same resource and scope share a token (it is the same token); any difference gets its own.
 * Never the refresh token alone (Duende CVE-2025-26620).
 */
export function resourceTokenKey(provider: string, resource: string, scope: readonly string[]): string {
  return digest([provider, 'r', resource, scope.join(' ')]);
}

export function exchangeTokenKey(provider: string, request: ExchangeRequest): string {
  const scope = typeof request.scope === 'string' ? request.scope : request.scope?.join(' ');
  const secretPart = (t: string | undefined) => (t === undefined ? undefined : digest([t]));
  return digest([
    provider,
    'x',
    request.audience,
    request.resource,
    scope,
    request.requestedTokenType,
    secretPart(request.subjectToken),
    request.subjectTokenType,
    secretPart(request.actorToken),
    request.actorTokenType,
  ]);
}

/** The token key of a configured API with a token of its own. */
export function apiTokenKey(api: ResolvedApi): string {
  if (api.exchange) return exchangeTokenKey(api.provider, exchangeOf(api));
  return resourceTokenKey(api.provider, api.resource as string, api.scope);
}

export function exchangeOf(api: ResolvedApi): ExchangeRequest {
  const { audience, resource, scope } = api.exchange!;
  return { ...(audience ? { audience } : {}), ...(resource ? { resource } : {}), ...(scope.length > 0 ? { scope } : {}) };
}

/** `apis` with `token` under `key`, and without the tokens that have expired. */
function withApiToken(apis: TokenRecord['apis'], key: string, token: ApiToken, now: number): Record<string, ApiToken> {
  const kept: Record<string, ApiToken> = {};
  for (const [k, t] of Object.entries(apis ?? {})) if (t.expiresAt === undefined || t.expiresAt > now) kept[k] = t;
  kept[key] = token;
  return kept;
}

/** What the record keeps of an API token: its scope only when it is not the one asked for (the record stays small). */
function storedForm(tokens: ApiToken, asked: string | undefined): ApiToken {
  const token: ApiToken = { accessToken: tokens.accessToken, tokenType: tokens.tokenType };
  if (tokens.expiresAt !== undefined) token.expiresAt = tokens.expiresAt;
  if (tokens.issuedAt !== undefined) token.issuedAt = tokens.issuedAt;
  if (tokens.scope !== undefined && tokens.scope !== asked) token.scope = tokens.scope;
  return token;
}

/** A stored API token as callers see it: the scope asked for when the record did not need to keep it. */
function withScope(token: ApiToken, asked: string | undefined): ApiToken {
  return token.scope === undefined && asked ? { ...token, scope: asked } : token;
}

/** The stored token under `key` unless it is due (or is the one the API just refused). */
function usable(record: TokenRecord, key: string, link: ProviderLink, now: number, stale: string | undefined, asked: string | undefined): ApiToken | undefined {
  const token = record.apis?.[key];
  if (!token || token.accessToken === stale || isExpiring(token, now, link.provider.refreshLeewayMs)) return undefined;
  return withScope(token, asked);
}

/**
 * RFC 8707 §2.2: the refresh-token grant with `resource` (+ the API's `scope`) gives an
 * audience-restricted token for one API. A rotated refresh token replaces the login's; the
 * login's own access token stays as it is.
 */
export function resourceGrant(link: ProviderLink, key: string, resource: string, scope: readonly string[], now: () => number, stale?: string): LoginGrant<ApiToken> {
  const asked = scope.length > 0 ? scope.join(' ') : undefined;
  return {
    key,
    spendsRefreshToken: true,
    have: (record) => usable(record, key, link, now(), stale, asked),
    async obtain(current) {
      const refreshToken = current.tokens.refreshToken;
      if (!refreshToken)
        throw new ReauthenticationRequiredError('The provider gave this login no refresh token, so it cannot get a token for another API; log in again.', OAUTH_CODES.NOT_AUTHENTICATED);
      const { tokenUrl } = await link.endpoints();
      const body = await link.telemetry.tokenRequest('oauth2.resource_grant', { provider: link.name, tokenUrl, grantType: 'refresh_token' }, () =>
        link.tokenEndpoint.refreshGrant(tokenUrl, refreshToken, current.dpop, { resource, ...(asked ? { scope: asked } : {}) }),
      );
      const at = now();
      const tokens = fromTokenResponse(body, at, undefined, link.provider.defaultTokenType, link.provider.dpop);
      const kept = storedForm(tokens, asked);
      const value = withScope(kept, asked);
      const rotated = tokens.refreshToken ?? refreshToken;
      const next: TokenRecord = { ...current, v: current.v + 1, tokens: { ...current.tokens, refreshToken: rotated }, apis: withApiToken(current.apis, key, kept, at) };
      return { next, value, issued: { accessToken: value.accessToken, ...(rotated !== refreshToken ? { refreshToken: rotated } : {}) } };
    },
  };
}

/**
 * RFC 8693 §2.1: exchange the login's access token (or the given `subjectToken`) for a token for
 * another audience. Does not spend the refresh token; runs under the login's lock only because it
 * writes the record.
 */
export function exchangeGrant(link: ProviderLink, key: string, request: ExchangeRequest, now: () => number, stale?: string): LoginGrant<ApiToken> {
  const scope = typeof request.scope === 'string' ? request.scope : request.scope?.join(' ');
  return {
    key,
    spendsRefreshToken: false,
    have: (record) => usable(record, key, link, now(), stale, scope),
    async obtain(current) {
      const { tokenUrl } = await link.endpoints();
      const params: Record<string, string> = {
        subject_token: request.subjectToken ?? current.tokens.accessToken,
        subject_token_type: request.subjectTokenType ?? ACCESS_TOKEN_TYPE,
      };
      if (request.audience) params.audience = request.audience;
      if (request.resource) params.resource = request.resource;
      if (scope) params.scope = scope;
      if (request.requestedTokenType) params.requested_token_type = request.requestedTokenType;
      if (request.actorToken) {
        params.actor_token = request.actorToken;
        params.actor_token_type = request.actorTokenType ?? ACCESS_TOKEN_TYPE;
      }
      const body = await link.telemetry.tokenRequest('oauth2.token_exchange', { provider: link.name, tokenUrl, grantType: TOKEN_EXCHANGE_GRANT }, () =>
        link.tokenEndpoint.tokenExchangeGrant(tokenUrl, params, current.dpop),
      );
      // RFC 8693 §2.2.1: `N_A` when the issued token is not an access token (nothing to send it with).
      if (typeof body.token_type === 'string' && body.token_type.toUpperCase() === 'N_A') body.token_type = 'bearer';
      const at = now();
      const { refreshToken: _notKept, ...tokens } = fromTokenResponse(body, at, undefined, link.provider.defaultTokenType, link.provider.dpop);
      const kept = storedForm(tokens, scope || undefined);
      const value = withScope(kept, scope || undefined);
      const next: TokenRecord = { ...current, v: current.v + 1, apis: withApiToken(current.apis, key, kept, at) };
      return { next, value, issued: { accessToken: value.accessToken } };
    },
  };
}
