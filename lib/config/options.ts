import type { RefreshLock } from '../session/lock.js';
import type { TokenSet } from '../protocol/token-set.js';

import type { KeyObject } from 'node:crypto';
import type { ResponseMode } from './response-mode.js';

export type { ResponseMode } from './response-mode.js';

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none' | 'private_key_jwt' | 'client_secret_jwt' | 'tls_client_auth' | 'self_signed_tls_client_auth';
/** FAPI 2.0 profiles whose client rules are enforced at startup (`profile` option). */
export type FapiProfile = 'fapi2' | 'fapi2-message-signing';
/** A PEM string or its bytes. */
export type PemInput = string | Buffer;
/** RFC 8705 mutual TLS: the client certificate and its private key (PEM). */
export interface TlsClientCertificate {
  cert: PemInput;
  key: PemInput;
  /** Extra CA certificates (PEM) to trust for the provider's mTLS endpoints (a private PKI). Default: Node's CA store. */
  ca?: PemInput | PemInput[];
}
/** A private key for `private_key_jwt`: a JWK object, a PEM string (PKCS#8, PKCS#1, SEC1) or a `KeyObject`. */
export type ClientAssertionKeyInput = Record<string, unknown> | string | KeyObject;
/** JWS algorithms for client assertions (RFC 7523): asymmetric for `private_key_jwt`, HMAC for `client_secret_jwt`. */
export type ClientAssertionAlg = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'HS256' | 'HS384' | 'HS512';

/** A validated client-assertion signing key (RFC 7523): the key, its JWS alg and, from a JWK, its `kid`. */
export interface ClientAssertionKey {
  readonly key: KeyObject;
  readonly alg: ClientAssertionAlg;
  readonly kid: string | undefined;
}
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
  /**
   * Expected `iss` (RFC 9207 callback param, ID token); enables discovery of missing endpoints.
   * A multi-tenant provider's template, e.g. `https://login.microsoftonline.com/{tenantid}/v2.0`:
   * each ID token's `iss` must be the template with its `tid` claim substituted (needs
   * `discoveryUrl` or configured endpoints; see `allowedTenants`).
   */
  issuer?: string;
  /** The discovery document's URL when it is not `<issuer>/.well-known/openid-configuration` (an issuer template). */
  discoveryUrl?: string;
  /**
   * With an issuer template: the only tenants (`tid`) whose users may log in. Another tenant's
   * login is refused with 401 `OAUTH_TENANT_NOT_ALLOWED`. Default: every tenant.
   */
  allowedTenants?: string[];
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
  /** OIDC UserInfo endpoint (`req.oauth.userinfo()`); discovered from `issuer` when absent. */
  userinfoUrl?: string;
  /**
   * Default `false`. `true`: at login, fetch the UserInfo claims and merge them into `req.oauth.user`
   * (ID-token claims win; the UserInfo `sub` must equal the ID token's, else the login fails with 502).
   */
  fetchUserInfo?: boolean;
  /** Absolute URL registered at the provider; its path is the callback route. Required. */
  redirectUri: string;
  /** Default `[]`. */
  scope?: string | string[];
  /**
   * Default `'query'`. `'form_post'` (OAuth 2.0 Form Post Response Mode): the provider POSTs the
   * authorization response to the callback (code and state never in a URL). The login is bound to
   * a short-lived `SameSite=None; Secure` cookie, so the redirect URI must be https (plain http only
   * on loopback hosts for local development). See docs/logout-and-response-modes.md. `'jwt'`
   * (JARM, needs `issuer`): the response is a JWT signed by the provider, verified before any of
   * it is used (docs/fapi.md).
   */
  responseMode?: ResponseMode;
  /** Extra authorize parameters, e.g. `{ access_type: 'offline', prompt: 'consent' }`. */
  authorizationParams?: Record<string, string>;
  /**
   * Extra authorize parameters of a login that asks for more scopes (`requireAuth({ scopes })`),
   * e.g. Google's `{ include_granted_scopes: 'true' }` (set by its preset). Default `{}`.
   */
  incrementalAuthorizationParams?: Record<string, string>;
  /**
   * Default `client_secret_basic` (or `none` without a secret). `private_key_jwt` (with
   * `clientAssertionKey`) and `client_secret_jwt` (HMAC with `clientSecret`) send an RFC 7523 client
   * assertion on every token, refresh, revocation and PAR request.
   */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** With `private_key_jwt`: the client's private key (JWK, PEM or KeyObject). Its alg: RS256 (RSA), ES256 (P-256), EdDSA (Ed25519). */
  clientAssertionKey?: ClientAssertionKeyInput;
  /** Override the client assertion's JWS alg (e.g. `PS256` for an RSA key, `HS512` with `client_secret_jwt`). */
  clientAssertionAlg?: ClientAssertionAlg;
  /**
   * RFC 9126 Pushed Authorization Requests: the authorization parameters go in an authenticated
   * POST to the AS, the browser carries only `client_id` and `request_uri`. Needs `issuer` (the
   * endpoint is discovered). Default `false`; on anyway when the discovered metadata says
   * `require_pushed_authorization_requests`.
   */
  pushedAuthorizationRequests?: boolean;
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
  /** Default `false`. RFC 9449 sender-constrained tokens: a key pair per login, a DPoP proof on every call. */
  dpop?: boolean;
  /**
   * FAPI 2.0: refuse at startup (TypeError naming the rule) every setting the Security Profile
   * forbids for a client; `'fapi2-message-signing'` also requires `requestObjects` and
   * `responseMode: 'jwt'`. See docs/fapi.md.
   */
  profile?: FapiProfile;
  /**
   * Default `false`. RFC 9101 JAR: the authorization request goes as a signed request object,
   * pushed with PAR (turned on with it; needs `issuer`).
   */
  requestObjects?: boolean;
  /** The request objects' signing key (PS256 for RSA, ES256 for P-256, EdDSA). Default: `clientAssertionKey`. */
  requestObjectSigningKey?: ClientAssertionKeyInput;
  /**
   * RFC 8705 mutual TLS: presented on every call to the provider (token, PAR, revocation, UserInfo)
   * and on API calls, so certificate-bound tokens work. Needed by `tls_client_auth` and
   * `self_signed_tls_client_auth`; discovery's `mtls_endpoint_aliases` are used.
   */
  tlsClientCertificate?: TlsClientCertificate;
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
  /** Default `'/'`: where logout ends when no valid `returnTo` is given. */
  postLogoutRedirect?: string;
  /**
   * Default `false`: `POST /logout` ends the login here only (tokens revoked, session destroyed).
   * `true`: the browser then continues at the provider's end-session endpoint (OpenID Connect
   * RP-Initiated Logout 1.0) with `id_token_hint`, `client_id` and `post_logout_redirect_uri`, and
   * comes back to the logout's `returnTo`. With several providers: the first one (in config order)
   * that was logged in and has an end-session endpoint.
   */
  idpLogout?: boolean;
  /**
   * Absolute URL registered at the provider as a post-logout redirect URI. Default: the app's
   * origin (from `redirectUri`) + `postLogoutRedirect`.
   */
  postLogoutRedirectUri?: string;
  /** Default 10000: token, revocation, discovery and session-store calls. */
  httpTimeoutMs?: number;
  /** Default: pooled undici dispatcher for API calls, global fetch for discovery/JWKS. */
  fetch?: FetchLike;
  /**
   * Default `false`. `true` (or `{ path, endSession }`) mounts `POST /backchannel-logout` (OIDC
   * Back-Channel Logout 1.0): a verified logout token ends that provider's login in every session
   * of its `sid`/`sub` (the whole session when no other login is left).
   */
  backchannelLogout?: boolean | BackchannelLogoutOptions;
  /**
   * OpenTelemetry spans and metrics (docs/observability.md), reported to the tracer and meter
   * providers the application registers. Default: on when the optional peer `@opentelemetry/api`
   * is installed, off (and free) when it is not. `false` turns them off; `true` refuses to start
   * without the API.
   */
  telemetry?: boolean;
  /**
   * Default `false`. `true` (or `{ path }`) mounts `GET /frontchannel-logout` (OpenID Connect
   * Front-Channel Logout 1.0): the provider's logout page frames it with `iss` and `sid`, and that
   * provider's login ends in every session of that `sid` (as back-channel logout ends it). Best
   * effort: it runs only if the provider's page loads the frame (docs/logout-and-response-modes.md).
   */
  frontchannelLogout?: boolean | FrontchannelLogoutOptions;
  /**
   * Several APIs behind one login, each with its own token (RFC 8707 resource indicators, RFC 8693
   * token exchange): `{ orders: { url, resource, scope } }`. `req.oauth.api('orders')` calls one;
   * an absolute `req.oauth.get(url)` picks the API whose `url` is the longest prefix. See
   * docs/several-apis.md.
   */
  apis?: Record<string, ApiOptions>;
}

/** One configured API (`apis.<name>`). */
export interface ApiOptions {
  /** The API's base URL (https, or http on loopback): relative paths of `req.oauth.api(name)` join it; its token goes only to its origin. */
  url: string;
  /**
   * RFC 8707 resource indicator (an absolute URI, no fragment). Sent in the authorization request;
   * the API's token comes from the refresh-token grant with this `resource` (audience-restricted).
   * Absent (and no `exchange`): the API gets the login's own token.
   */
  resource?: string;
  /** Scopes asked for this API's token (a subset of what the login granted). */
  scope?: string | string[];
  /** The provider whose login this API's token comes from (required with several providers). */
  provider?: string;
  /** RFC 8693: the API takes a token exchanged for the login's access token. */
  exchange?: ApiExchangeOptions;
}

/** `apis.<name>.exchange`: the token-exchange parameters (at least `audience` or `resource`). */
export interface ApiExchangeOptions {
  audience?: string;
  resource?: string;
  scope?: string | string[];
}

export interface FrontchannelLogoutOptions {
  /** Default `/frontchannel-logout`. Register `https://your.app<path>` as `frontchannel_logout_uri`. */
  path?: string;
}

export interface BackchannelLogoutOptions {
  /** Default `/backchannel-logout`. */
  path?: string;
  /**
   * Default `false`: a logout token ends only the login of the provider that sent it; the session
   * and its other providers' logins stay (a session left with no login ends). `true`: it ends the
   * whole session, every provider's login with it.
   */
  endSession?: boolean;
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
  /** As `oauthMiddleware`'s: spans of its token requests and API calls (docs/observability.md); default on when `@opentelemetry/api` is installed. */
  telemetry?: boolean;
}

export type SingleProviderOptions = ProviderOptions & CommonOptions & { providers?: never };
export interface MultiProviderOptions<P extends string = string> extends CommonOptions {
  providers: Record<P, ProviderOptions>;
}
export type OAuthMiddlewareOptions = SingleProviderOptions | MultiProviderOptions;
