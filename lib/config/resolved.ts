// What resolving the options decided (config/resolve.ts): the validated, defaulted shape the
// middleware runs on. Internal: users write the option types of options.ts.
import type { ApiTarget } from '../client/bearer.js';
import type { RefreshLock } from '../session/lock.js';
import type { ClientAssertionKey, CommonOptions, FapiProfile, FetchLike, TlsClientCertificate, TokenEndpointAuthMethod, TokenPlacement } from './options.js';
import type { ResponseMode } from './response-mode.js';

export interface ResolvedProvider {
  readonly name: string;
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly authorizationUrl: string | undefined;
  readonly tokenUrl: string | undefined;
  readonly issuer: string | undefined;
  /** `discoveryUrl`: where the discovery document is read (default: under `issuer`). */
  readonly discoveryUrl: string | undefined;
  /** `allowedTenants` (issuer template only); undefined: every tenant. */
  readonly allowedTenants: ReadonlySet<string> | undefined;
  /** `iss` required on callbacks even without discovery (the option). */
  readonly authorizationResponseIssParameterSupported: boolean;
  /** The configured issuers of the other providers (a callback naming one is a mix-up). */
  readonly foreignIssuers: readonly string[];
  readonly jwksUri: string | undefined;
  readonly revocationUrl: string | undefined;
  readonly endSessionUrl: string | undefined;
  readonly userinfoUrl: string | undefined;
  readonly fetchUserInfo: boolean;
  readonly redirectUri: string;
  readonly scope: readonly string[];
  /** `responseMode`: `form_post` mounts the callback as POST (with its binding cookie); `jwt` verifies the JARM response first. */
  readonly responseMode: ResponseMode;
  readonly authorizationParams: Readonly<Record<string, string>>;
  readonly incrementalAuthorizationParams: Readonly<Record<string, string>>;
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** `private_key_jwt` / `client_secret_jwt`: the signing key. */
  readonly clientAssertion: ClientAssertionKey | undefined;
  readonly pushedAuthorizationRequests: boolean;
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
  readonly dpop: boolean;
  /** The `profile` option (FAPI 2.0 rules were checked at startup). */
  readonly profile: FapiProfile | undefined;
  /** JAR: the request objects' signing key; undefined when `requestObjects` is off. */
  readonly requestObjectKey: ClientAssertionKey | undefined;
  /** mTLS: the client certificate every call to this provider presents. */
  readonly tlsClientCertificate: Readonly<TlsClientCertificate> | undefined;
  readonly loginPath: string | false;
  readonly callbackPath: string | false;
  /** RFC 8707: the `resource` of every API of this provider, sent in its authorization requests. */
  readonly resources: readonly string[];
}

/** `apis.<name>.exchange`, validated. */
export interface ResolvedApiExchange {
  readonly audience: string | undefined;
  readonly resource: string | undefined;
  readonly scope: readonly string[];
}

/** One configured API, validated. */
export interface ResolvedApi {
  readonly name: string;
  /** The base URL, normalized (`new URL(url).href`). */
  readonly url: string;
  readonly origin: string;
  readonly resource: string | undefined;
  readonly scope: readonly string[];
  readonly provider: string;
  readonly exchange: ResolvedApiExchange | undefined;
  /** Whether the API has a token of its own (`resource` or `exchange`); false: the login's token. */
  readonly ownToken: boolean;
  /**
   * Where its token may go: `url` as the base, its origin as the only allowed one. Built once at
   * startup (nothing per request).
   */
  readonly target: ApiTarget;
}

export interface ResolvedConfig {
  readonly providers: ReadonlyMap<string, ResolvedProvider>;
  /** Set when exactly one provider was configured (its name is `'default'`). */
  readonly single: ResolvedProvider | undefined;
  readonly logoutPath: string | false;
  /** `POST` route of OIDC Back-Channel Logout; `false` when off. */
  readonly backchannelLogoutPath: string | false;
  /** `GET` route of OIDC Front-Channel Logout; `false` when off. */
  readonly frontchannelLogoutPath: string | false;
  /** `backchannelLogout.endSession`: a logout token ends the whole session, not only its provider's login. */
  readonly backchannelLogoutEndsSession: boolean;
  readonly onTokens: CommonOptions['onTokens'];
  readonly onRefreshFailure: 'relogin' | 'error';
  readonly lock: RefreshLock;
  readonly postLoginRedirect: string;
  readonly postLogoutRedirect: string;
  readonly idpLogout: boolean;
  readonly postLogoutRedirectUri: string;
  readonly httpTimeoutMs: number;
  readonly fetch: FetchLike | undefined;
  /** Origin of the app (from the redirect URIs): same-origin checks never trust Host headers. */
  readonly appOrigins: ReadonlySet<string>;
  /** Spans and metrics on: the option, or by default whether `@opentelemetry/api` loads. */
  readonly telemetry: boolean;
  /** `apis`, validated, by name. */
  readonly apis: ReadonlyMap<string, ResolvedApi>;
}
