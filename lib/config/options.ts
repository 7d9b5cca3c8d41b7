import type { RefreshLock } from '../session/lock.js';
import type { TokenSet } from '../protocol/token-set.js';

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';
export type TokenPlacement = 'header' | 'query';
export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** Options of one provider (the whole config for a single-provider app). */
export interface ProviderOptions {
  /** OAuth client id. Required. */
  clientId: string;
  /** Absent ⇒ public client (`tokenEndpointAuthMethod: 'none'`). */
  clientSecret?: string;
  /** Required unless `issuer` (discovery) or a preset gives it. */
  authorizationUrl?: string;
  /** Required unless `issuer` (discovery) or a preset gives it. */
  tokenUrl?: string;
  /** Expected `iss` (RFC 9207 callback param, ID token); enables discovery of missing endpoints. */
  issuer?: string;
  /** JWKS for ID token signatures; discovered from `issuer` when absent. */
  jwksUri?: string;
  /**
   * RFC 9207 / RFC 8414 `authorization_response_iss_parameter_supported`: `true` makes `iss`
   * required on every callback (needs `issuer`). Default: what the discovery document says; with
   * explicit endpoints (no discovery) the callback checks `iss` only when present.
   */
  authorizationResponseIssParameterSupported?: boolean;
  /** RFC 7009 revocation endpoint. */
  revocationUrl?: string;
  /** RP-initiated logout endpoint (`id_token_hint` is sent). */
  endSessionUrl?: string;
  /** Absolute URL registered at the provider; its path is the callback route. Required. */
  redirectUri: string;
  /** Default `[]`. */
  scope?: string | string[];
  /** Extra authorize parameters, e.g. `{ access_type: 'offline', prompt: 'consent' }`. */
  authorizationParams?: Record<string, string>;
  /** Default `client_secret_basic` (or `none` without a secret). */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** Default `true` (S256). `false` only for providers that reject PKCE. */
  pkce?: boolean;
  /** Base for relative `req.oauth.get('/user')`; its origin may receive the bearer token. */
  apiBaseUrl?: string;
  /** The only origins that ever receive the bearer token. Default: origin of `apiBaseUrl`. */
  allowedOrigins?: string[];
  /** `'query'` sends `?access_token=` (Stack Exchange). Default `'header'`. */
  tokenPlacement?: TokenPlacement;
  /** Extra query parameters on every API call (e.g. Stack Exchange `key`). */
  extraQuery?: Record<string, string>;
  /** Extra headers on every API call (e.g. GitHub's required `User-Agent`). */
  apiHeaders?: Record<string, string>;
  /** Extra headers on token-endpoint calls. */
  tokenRequestHeaders?: Record<string, string>;
  /** token_type to assume when the token response omits it (Stack Exchange). Default: none, a response without it is rejected. */
  defaultTokenType?: 'bearer';
  /** Default 60: refresh when fewer seconds than this remain. */
  refreshLeewaySeconds?: number;
  /** Default `true`: on 401 `invalid_token`, refresh once and retry idempotent requests. */
  retryOn401?: boolean;
}

export interface TokensEvent {
  sessionId: string;
  provider: string;
  /** The new token set (`undefined` on logout). */
  tokens: Readonly<TokenSet> | undefined;
  previous: Readonly<TokenSet> | undefined;
  reason: 'login' | 'refresh' | 'logout';
}

export interface RouteOptions {
  /** Default `/login`. `false` disables the route. */
  login?: string | false;
  /** Default: path of `redirectUri`. `false` disables the route. */
  callback?: string | false;
  /** Default `/logout`. `false` disables the route. */
  logout?: string | false;
}

/** Options that apply to every provider (top level, beside `providers` when there are several). */
export interface CommonOptions {
  routes?: RouteOptions;
  /** Called after every token change; awaited before the response continues. */
  onTokens?: (event: TokensEvent) => void | Promise<void>;
  /** Default `'relogin'`. */
  onRefreshFailure?: 'relogin' | 'error';
  /** Default: in-process single flight. `redisLock(client)` for several processes. */
  lock?: RefreshLock;
  /** Default `'/'`. */
  postLoginRedirect?: string;
  /** Default `'/'`. */
  postLogoutRedirect?: string;
  /** Default 10000: token, revocation, discovery and session-store calls. */
  httpTimeoutMs?: number;
  /** Default: pooled undici dispatcher for API calls, global fetch for discovery/JWKS. */
  fetch?: FetchLike;
}

/**
 * Options of the backend (non-user) clients `clientCredentials()` and `passwordGrant()`; the shared
 * ones mean what they mean for a provider. A preset may be spread in
 * (`{ ...providers.battlenet({ region: 'eu' }), clientId, clientSecret }`): the fields a backend
 * client has no use for (`authorizationUrl`, `issuer`, `authorizationParams`, …) are accepted and ignored.
 */
export interface BackendClientOptions extends Omit<ProviderOptions, 'redirectUri'> {
  /** Required (a backend client does no discovery); a preset gives it. */
  tokenUrl?: string;
  /** Extra token-request parameters, e.g. `{ audience: 'https://api.example' }` or `{ resource }`. */
  tokenParams?: Record<string, string>;
  /** Default 10000. */
  httpTimeoutMs?: number;
  fetch?: FetchLike;
}

export type SingleProviderOptions = ProviderOptions & CommonOptions & { providers?: never };
export interface MultiProviderOptions<P extends string = string> extends CommonOptions {
  providers: Record<P, ProviderOptions>;
}
export type OAuthMiddlewareOptions = SingleProviderOptions | MultiProviderOptions;

export interface ResolvedProvider {
  readonly name: string;
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly authorizationUrl: string | undefined;
  readonly tokenUrl: string | undefined;
  readonly issuer: string | undefined;
  /** `iss` required on callbacks even without discovery (the option). */
  readonly authorizationResponseIssParameterSupported: boolean;
  /** The configured issuers of the other providers (a callback naming one is a mix-up). */
  readonly foreignIssuers: readonly string[];
  readonly jwksUri: string | undefined;
  readonly revocationUrl: string | undefined;
  readonly endSessionUrl: string | undefined;
  readonly redirectUri: string;
  readonly scope: readonly string[];
  readonly authorizationParams: Readonly<Record<string, string>>;
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  readonly pkce: boolean;
  readonly apiBaseUrl: string | undefined;
  readonly allowedOrigins: ReadonlySet<string>;
  readonly tokenPlacement: TokenPlacement;
  readonly extraQuery: Readonly<Record<string, string>>;
  readonly apiHeaders: Readonly<Record<string, string>>;
  readonly tokenRequestHeaders: Readonly<Record<string, string>>;
  readonly defaultTokenType: 'bearer' | undefined;
  readonly refreshLeewayMs: number;
  readonly retryOn401: boolean;
  readonly loginPath: string | false;
  readonly callbackPath: string | false;
}

export interface ResolvedConfig {
  readonly providers: ReadonlyMap<string, ResolvedProvider>;
  /** Set when exactly one provider was configured (its name is `'default'`). */
  readonly single: ResolvedProvider | undefined;
  readonly logoutPath: string | false;
  readonly onTokens: CommonOptions['onTokens'];
  readonly onRefreshFailure: 'relogin' | 'error';
  readonly lock: RefreshLock;
  readonly postLoginRedirect: string;
  readonly postLogoutRedirect: string;
  readonly httpTimeoutMs: number;
  readonly fetch: FetchLike | undefined;
  /** Origin of the app (from the redirect URIs): same-origin checks never trust Host headers. */
  readonly appOrigins: ReadonlySet<string>;
}
