import { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { AuthorizationCode, ClientCredentials, ResourceOwnerPassword, type AccessToken, type ModuleOptions } from 'simple-oauth2';
import { clientAssertionParams, usesClientAssertion, type ClientAuthentication } from './client-assertion.js';
import { OAUTH_CODES, OAuthError, TokenEndpointError } from '../errors.js';
import type { DpopKey, DpopProofs } from './dpop.js';
import { errorFromBody, invalidTokenResponse, isBoom, MAX_BODY_BYTES, NOT_A_BODY, translateTransportError, type TokenEndpointBody } from './token-endpoint-errors.js';

export { parseRetryAfter, parseTokenBody, type TokenEndpointBody } from './token-endpoint-errors.js';

// Every token-endpoint call goes through simple-oauth2's documented API: the grant classes'
// getToken, createToken(...).refresh() and .revoke(), configured with `client`, `auth`, `options`
// (authorizationMethod, bodyFormat) and `http` (Wreck options: headers, timeout, maxBytes,
// redirects, json). `json: 'force'` parses JSON whatever the content type; a body that is not JSON
// reaches us as a Boom error carrying the raw payload, which is how form-encoded answers still work.

/** How this package authenticates to one provider's token endpoint. */
export interface TokenClientConfig extends ClientAuthentication {
  timeoutMs: number;
  /** RFC 8705: the https agent that presents the TLS client certificate (mTLS client auth, bound tokens). */
  tlsAgent?: HttpsAgent | undefined;
}

/** RFC 8693 §2.1 `grant_type`. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** Wreck's `agents` need an http one too: a token endpoint over plain http (loopback only) never sees the certificate. */
const plainAgent = new HttpAgent({ keepAlive: false });

type GrantKind = 'code' | 'client' | 'password';
type GrantClass = AuthorizationCode | ClientCredentials | ResourceOwnerPassword;

function moduleOptions(config: TokenClientConfig, url: URL): ModuleOptions {
  // A public client sends only client_id, and a JWT-authenticated one client_id beside the
  // assertion (extra body params of each call): naming both parameters client_id makes
  // simple-oauth2 write the id twice (same value) instead of adding a client_secret.
  // RFC 8705: with mTLS client authentication the certificate is the credential, the body carries client_id only.
  const none = config.authMethod === 'none' || config.authMethod === 'tls_client_auth' || config.authMethod === 'self_signed_tls_client_auth' || usesClientAssertion(config);
  const path = url.pathname + url.search;
  return {
    client: {
      id: config.clientId,
      secret: none ? config.clientId : (config.clientSecret ?? ''),
      idParamName: 'client_id',
      secretParamName: none ? 'client_id' : 'client_secret',
    },
    auth: { tokenHost: url.origin, tokenPath: path, refreshPath: path, revokePath: path },
    http: {
      json: 'force',
      timeout: config.timeoutMs,
      maxBytes: MAX_BODY_BYTES,
      redirects: false,
      headers: { ...config.headers },
      // Wreck wants all three agents; the certificate-presenting one serves every https call (none skips verification).
      ...(config.tlsAgent ? { agents: { https: config.tlsAgent, httpsAllowUnauthorized: config.tlsAgent, http: plainAgent } } : {}),
    },
    options: {
      authorizationMethod: config.authMethod === 'client_secret_basic' ? 'header' : 'body',
      bodyFormat: 'form',
      credentialsEncodingMode: 'strict',
      scopeSeparator: ' ',
    },
  };
}

/**
 * The raw token response from simple-oauth2's `AccessToken.token`, minus the `expires_at` Date it
 * adds (we compute expiry ourselves from `expires_in`, against our own clock and caps).
 */
function rawResponse(token: AccessToken['token'] | null | undefined): TokenEndpointBody {
  const { expires_at: _added, ...body } = token ?? {};
  return body;
}

/**
 * Run one simple-oauth2 call and return the parsed body. HTTP errors, `error` in a 200 body,
 * timeouts and garbage become `TokenEndpointError` / `TimeoutError` / `NetworkError`; `secrets` (the
 * values this request carried) never survive into any of them.
 */
async function callTokenEndpoint(
  config: TokenClientConfig,
  proofs: DpopProofs,
  url: string,
  requestSecrets: ReadonlyArray<string | undefined>,
  call: (auth: Record<string, string>) => Promise<AccessToken>,
): Promise<TokenEndpointBody> {
  if (config.tlsAgent && !url.startsWith('https:')) {
    throw new OAuthError(OAUTH_CODES.MTLS_REQUIRED, 'Refused to call a token endpoint without TLS: this client authenticates or binds its tokens with a TLS client certificate.', { status: 500 });
  }
  const auth = await clientAssertionParams(config);
  const secrets = [config.clientSecret, auth.client_assertion, ...requestSecrets];
  let body: TokenEndpointBody;
  try {
    body = rawResponse((await call(auth)).token);
  } catch (err) {
    // RFC 9449 §8: an AS that wants a nonce says so in an error answer's DPoP-Nonce header.
    proofs.rememberNonce(url, (err as { data?: { res?: { headers?: Record<string, string> } } })?.data?.res?.headers?.['dpop-nonce']);
    // simple-oauth2 chokes (TypeError, assertion) on a JSON body that is null, a string or a number.
    if (!isBoom(err)) throw invalidTokenResponse(NOT_A_BODY);
    const outcome = translateTransportError(err, url, secrets);
    if (outcome instanceof Error) throw outcome;
    body = outcome.body;
  }
  if (Object.keys(body).length === 0) throw invalidTokenResponse(NOT_A_BODY);
  if (body.error !== undefined) throw errorFromBody(body, 200, secrets);
  return body;
}

type HttpOptions = { headers: Record<string, string> } | undefined;

function withoutGrantType(extra: Record<string, string>): Record<string, string> {
  const { grant_type: _ignored, ...rest } = extra;
  return rest;
}

/**
 * The token endpoint of one client (a provider link of a middleware instance, or one backend grant
 * client): its simple-oauth2 grant objects, made once per grant type and URL, and the DPoP proofs
 * of its owner. Returns raw token responses.
 */
export class TokenEndpointClient {
  readonly config: TokenClientConfig;
  readonly #proofs: DpopProofs;
  readonly #grants = new Map<string, GrantClass>();

  constructor(options: { config: TokenClientConfig; proofs: DpopProofs }) {
    this.config = options.config;
    this.#proofs = options.proofs;
  }

  #grant(kind: 'code', url: string): AuthorizationCode;
  #grant(kind: 'client', url: string): ClientCredentials;
  #grant(kind: 'password', url: string): ResourceOwnerPassword;
  #grant(kind: GrantKind, url: string): GrantClass {
    const key = `${kind} ${url}`;
    let grant = this.#grants.get(key);
    if (!grant) {
      const options = moduleOptions(this.config, new URL(url));
      grant = kind === 'code' ? new AuthorizationCode(options) : kind === 'client' ? new ClientCredentials(options) : new ResourceOwnerPassword(options);
      this.#grants.set(key, grant);
    }
    return grant;
  }

  #call(url: string, requestSecrets: ReadonlyArray<string | undefined>, call: (auth: Record<string, string>) => Promise<AccessToken>): Promise<TokenEndpointBody> {
    return callTokenEndpoint(this.config, this.#proofs, url, requestSecrets, call);
  }

  /**
   * RFC 9449: with a DPoP key, every attempt carries a fresh proof (simple-oauth2's per-call http
   * options); an AS answering `use_dpop_nonce` gets exactly one retry with the nonce it sent.
   */
  async #withDpop(url: string, dpop: DpopKey | undefined, run: (httpOptions: HttpOptions) => Promise<TokenEndpointBody>): Promise<TokenEndpointBody> {
    if (!dpop) return run(undefined);
    const attempt = async () => run({ headers: { DPoP: await this.#proofs.create(dpop, { method: 'POST', url }) } });
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof TokenEndpointError) || err.error !== 'use_dpop_nonce' || this.#proofs.nonceFor(url) === undefined) throw err;
      return attempt();
    }
  }

  /** Authorization code grant (RFC 6749 §4.1.3, RFC 7636 §4.5) through `AuthorizationCode#getToken`. */
  exchangeCode(tokenUrl: string, grant: { code: string; redirectUri: string; codeVerifier?: string }, dpop?: DpopKey): Promise<TokenEndpointBody> {
    const params = { code: grant.code, redirect_uri: grant.redirectUri, ...(grant.codeVerifier ? { code_verifier: grant.codeVerifier } : {}) };
    const client = this.#grant('code', tokenUrl);
    return this.#withDpop(tokenUrl, dpop, (http) => this.#call(tokenUrl, [grant.code, grant.codeVerifier], (auth) => client.getToken({ ...params, ...auth }, http)));
  }

  /**
   * Refresh grant (RFC 6749 §6) through `createToken(...).refresh()`. When the response has no
   * `refresh_token` the one sent is kept (RFC 6749 §6; simple-oauth2 5.1.0 would leave `undefined`).
   */
  async refreshGrant(tokenUrl: string, refreshToken: string, dpop?: DpopKey, extra: Record<string, string> = {}): Promise<TokenEndpointBody> {
    const client = this.#grant('code', tokenUrl);
    const params = withoutGrantType(extra);
    const body = await this.#withDpop(tokenUrl, dpop, (http) =>
      this.#call(tokenUrl, [refreshToken], (auth) => client.createToken({ refresh_token: refreshToken }).refresh({ ...params, ...auth }, http)),
    );
    if (typeof body.refresh_token !== 'string' || body.refresh_token === '') body.refresh_token = refreshToken;
    return body;
  }

  /** Client credentials grant (RFC 6749 §4.4) through `ClientCredentials#getToken`; `extra` adds e.g. scope, audience. */
  clientCredentialsGrant(tokenUrl: string, extra: Record<string, string> = {}, dpop?: DpopKey): Promise<TokenEndpointBody> {
    const client = this.#grant('client', tokenUrl);
    return this.#withDpop(tokenUrl, dpop, (http) => this.#call(tokenUrl, [], (auth) => client.getToken({ ...withoutGrantType(extra), ...auth }, http)));
  }

  /**
   * Token exchange (RFC 8693 §2.1) through `ClientCredentials#getToken`: simple-oauth2 writes the
   * given parameters over its base ones, so `grant_type` names the token-exchange grant. Same
   * client authentication (Basic, post, JWT) and DPoP as every other grant.
   */
  tokenExchangeGrant(tokenUrl: string, params: Record<string, string>, dpop?: DpopKey): Promise<TokenEndpointBody> {
    const client = this.#grant('client', tokenUrl);
    const body = { ...params, grant_type: TOKEN_EXCHANGE_GRANT };
    return this.#withDpop(tokenUrl, dpop, (http) => this.#call(tokenUrl, [params.subject_token, params.actor_token], (auth) => client.getToken({ ...body, ...auth }, http)));
  }

  /** Resource owner password grant (RFC 6749 §4.3) through `ResourceOwnerPassword#getToken`. */
  passwordGrant(tokenUrl: string, credentials: { username: string; password: string }, extra: Record<string, string> = {}, dpop?: DpopKey): Promise<TokenEndpointBody> {
    const client = this.#grant('password', tokenUrl);
    const params = { ...withoutGrantType(extra), username: credentials.username, password: credentials.password };
    return this.#withDpop(tokenUrl, dpop, (http) => this.#call(tokenUrl, [credentials.password], (auth) => client.getToken({ ...params, ...auth }, http)));
  }
}
