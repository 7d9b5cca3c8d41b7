/**
 * `express-oauth2-session/testing`: a real OAuth 2.0 / OpenID Connect provider (oidc-provider, an
 * optional peer dependency: add it as a dev dependency) for testing your own app, plus helpers to
 * log in without a browser, expire a session's token and make the token endpoint fail.
 */
import type { SessionStore } from '../session/login-session.js';
import type { ProviderOptions } from '../config/options.js';
import { expireStoredAccessToken } from '../session/token-records.js';
import { authorizeWithoutBrowser, type AuthorizeOptions } from './login-driver.js';
import { spawnProvider, type ProviderEndpoints } from './spawn-provider.js';
import { startTestProviderWith } from './test-provider.js';

export { authorizeWithoutBrowser, endSessionWithoutBrowser, CookieJar, type AuthorizeOptions, type AuthorizeResult, type EndSessionResult } from './login-driver.js';
export type { ProviderEndpoints } from './spawn-provider.js';
export { DEFAULT_TEST_REDIRECT_URI } from './test-provider.js';

const STORE_TIMEOUT_MS = 5000;

export interface TestProviderOptions {
  /** Redirect URIs registered for the `rp-basic` and `rp-post` clients. Default `[DEFAULT_TEST_REDIRECT_URI]`. */
  redirectUris?: string[];
  /** Post-logout redirect URIs registered for `rp-basic` and `rp-post` (`idpLogout`). Default: each redirect URI's origin + `/`. */
  postLogoutRedirectUris?: string[];
  /** Seconds. Default 5 (short, to exercise refresh). */
  accessTokenTTL?: number;
  refreshTokenTTL?: number;
  clientCredentialsTTL?: number;
  /** Default `{ 'rp-basic': true }`: rp-basic rotates refresh tokens (reuse revokes the grant). */
  rotateRefreshTokens?: boolean | Record<string, boolean>;
  /** Extra oidc-provider client metadata. */
  extraClients?: object[];
  /** Default true: PKCE S256 required for every client. */
  requirePkce?: boolean;
  /** Advertise and enforce RFC 9126 PAR for every client (`require_pushed_authorization_requests`). Default false. */
  requirePushedAuthorizationRequests?: boolean;
  /** Scopes the provider knows beyond `openid`, `offline_access`, `profile` and `email`. */
  scopes?: string[];
  /**
   * Supported `acr` values (default none: ID tokens carry no `acr`). When set, each login gets the
   * first requested `acr_values` entry that is supported, else the first of these.
   */
  acrValues?: string[];
  /**
   * Access tokens carry the login's `acr` and `auth_time`, reported by introspection (RFC 9470
   * §6), so a resource server of your tests can demand a step-up. Default false.
   */
  accessTokenAuthContext?: boolean;
  /** DPoP proofs at the token endpoint must carry a server nonce (`use_dpop_nonce`). Default false. */
  requireDPoPNonce?: boolean;
  /** Print oidc-provider's own errors. Default false. */
  logErrors?: boolean;
  /**
   * RFC 8707 resource servers: `{ [resource]: { scope, audience?, accessTokenFormat?, accessTokenTTL? } }`.
   * A token request naming one as `resource` gets a token for it (`aud`), scope cut to its `scope`;
   * `accessTokenFormat: 'jwt'` makes it a signed JWT (verify it with the provider's JWKS).
   */
  resourceServers?: Record<string, TestResourceServer>;
  /**
   * Register the RFC 8693 token-exchange grant: every client with the refresh_token grant (`rp-basic`, `rp-post`, such
   * `extraClients`) may exchange an access token for one for a resource server, DPoP-bound when the request carries a
   * DPoP proof (no server nonce for this grant). Default false.
   */
  tokenExchange?: boolean;
  /**
   * oidc-provider's FAPI 2.0 profile (PKCE S256, exact redirect URIs, …). Register FAPI clients with
   * `extraClients` (e.g. `token_endpoint_auth_method: 'private_key_jwt'`, `dpop_bound_access_tokens: true`).
   * Also publishes the signing key for PS256. Default false.
   */
  fapi?: boolean;
  /** Accept signed request objects (JAR, RFC 9101). Default false. */
  requestObjects?: boolean;
  /** JARM: `response_mode=jwt` (signed with PS256 when the client registers `authorization_signed_response_alg: 'PS256'`). Default false. */
  jwtResponseModes?: boolean;
  /**
   * RFC 8705 mutual TLS: a second, TLS listener with this key and certificate (PEM) that asks every
   * client for a certificate and verifies it against `ca`; discovery lists it in
   * `mtls_endpoint_aliases` (`endpoints.mtls`), and tokens issued there are certificate-bound.
   */
  mtls?: { key: string; cert: string; ca: string };
}

/** One RFC 8707 resource server of the test provider. */
export interface TestResourceServer {
  /** Space-separated scopes this server's tokens may carry. */
  scope?: string;
  /** Default: the resource indicator itself. */
  audience?: string;
  /** Default `'opaque'`. */
  accessTokenFormat?: 'opaque' | 'jwt';
  /** Seconds. Default: the provider's `accessTokenTTL`. */
  accessTokenTTL?: number;
}

/** One call to the token, revocation, introspection or PAR (`/request`) endpoint, as the provider saw it. */
export interface ProviderRequest {
  endpoint: string;
  clientId?: string;
  authMethod: string;
  grantType?: string;
  status?: number;
  error?: string;
  /** At revocation: whether a DPoP proof was sent (a DPoP-bound token is revoked only with one). */
  dpop?: boolean;
}

export interface TokenEndpointFault {
  /** Default `/token`. */
  path?: string;
  status?: number;
  /** JSON object, or a string sent as text/plain. */
  body?: unknown;
  /** How many matching requests to answer this way. Default 1. */
  count?: number;
  /** Extra response headers, e.g. `{ 'retry-after': '2' }`. */
  headers?: Record<string, string>;
}

/** A client registered at the test provider (`rp-basic`, `rp-post`, `svc`, and your extraClients). */
export interface TestClient {
  id: string;
  secret?: string;
  method?: string;
  grants?: string[];
}

export interface TestProvider {
  issuer: string;
  endpoints: ProviderEndpoints;
  clients: TestClient[];
  requests(): Promise<ProviderRequest[]>;
  tokenRequests(grantType?: string): Promise<ProviderRequest[]>;
  clearRequests(): Promise<void>;
  /** Answer the next matching request(s) with a canned response (default: 500 server_error at /token). */
  failNext(fault?: TokenEndpointFault): Promise<void>;
  /** `failNext` at the token endpoint: the next token request(s) get this answer (default 500 server_error). */
  failNextTokenRequest(fault?: Omit<TokenEndpointFault, 'path'>): Promise<void>;
  /**
   * Ready-to-spread `oauthMiddleware` options for a client of this provider: `rp-basic` by default
   * (rotating refresh tokens); `{ clientId: 'rp-post' }` picks that client's secret and auth method
   * (for a `private_key_jwt` client, also pass its `clientAssertionKey`).
   */
  providerOptions(overrides?: Partial<ProviderOptions>): ProviderOptions;
  /** RFC 7662 introspection (as the `svc` client): is this access or refresh token still active? */
  introspect(token: string): Promise<boolean>;
  stop(): Promise<void>;
  /** What the provider process printed (warnings, errors). */
  output(): string;
}

/** Start a provider on a free loopback port, in a child process (works under jest's CommonJS runtime). */
export function startTestProvider(options: TestProviderOptions = {}): Promise<TestProvider> {
  return startTestProviderWith(spawnProvider, options);
}

/** What `loginWithoutBrowser` reads of a supertest (or similar) response. */
export interface AgentResponse {
  status: number;
  headers: Record<string, unknown>;
}
/** A supertest agent (structurally: supertest is your dependency, not ours). */
export interface AgentLike {
  get(path: string): PromiseLike<AgentResponse>;
}

/** A supertest-like POST: `agent.post(path).set(name, value).send(body)`. */
export interface PostLike<R> {
  set(name: string, value: string): PostLike<R>;
  send(body: string): PromiseLike<R>;
}

/** The `name=value` pairs of the `oauth.fp.*` (form_post binding) cookies a response set. */
function bindingCookies(res: AgentResponse): string[] {
  const set = res.headers['set-cookie'];
  const list = Array.isArray(set) ? (set as string[]) : typeof set === 'string' ? [set] : [];
  return list.filter((c) => c.startsWith('oauth.fp.')).map((c) => c.split(';')[0] as string);
}

/**
 * Log in on a supertest agent: GET /login on your app, the provider's login and consent pages,
 * then your callback. Resolves with the callback response (303 on success). With
 * `responseMode: 'form_post'` the callback is the provider's form, POSTed with the login's binding
 * cookie (sent explicitly: a cookie jar keeps `Secure` cookies off plain http), so the agent needs `post`.
 */
export async function loginWithoutBrowser<R extends AgentResponse>(
  agent: { get(path: string): PromiseLike<R>; post?(path: string): PostLike<R> },
  options: AuthorizeOptions & { loginPath?: string } = {},
): Promise<R> {
  const start = await agent.get(options.loginPath ?? '/login');
  const location = start.headers.location;
  if (start.status !== 302 || typeof location !== 'string') throw new Error(`GET ${options.loginPath ?? '/login'} answered ${start.status}, expected a 302 to the provider`);
  const { callbackUrl, method, params } = await authorizeWithoutBrowser(location, options);
  const url = new URL(callbackUrl);
  if (method === 'GET') return agent.get(`${url.pathname}${url.search}`);
  if (!agent.post) throw new Error('the provider answered with form_post: pass an agent with post() (supertest)');
  const post = agent.post(url.pathname).set('content-type', 'application/x-www-form-urlencoded');
  const cookies = bindingCookies(start);
  return (cookies.length > 0 ? post.set('cookie', cookies.join('; ')) : post).send(params.toString());
}

/**
 * Make a logged-in session's access token expired (as if its lifetime had passed), so the next
 * `req.oauth` call refreshes it. `provider` is `'default'` with a single provider.
 */
export async function expireAccessToken(store: SessionStore, sessionId: string, provider = 'default'): Promise<void> {
  if (!(await expireStoredAccessToken(store, sessionId, provider, STORE_TIMEOUT_MS))) {
    throw new Error(`no token record for session ${sessionId.slice(0, 4)}… and provider ${provider}`);
  }
}
