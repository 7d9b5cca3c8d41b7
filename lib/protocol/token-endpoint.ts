import { AuthorizationCode, ClientCredentials, ResourceOwnerPassword, type AccessToken, type ModuleOptions } from 'simple-oauth2';
import { clientAssertionParams, usesClientAssertion, type ClientAuthentication } from './client-assertion.js';
import { TokenEndpointError } from '../errors.js';
import { createDpopProof, nonceFor, rememberNonce, type DpopKey } from './dpop.js';
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
}

type GrantKind = 'code' | 'client' | 'password';
type GrantClass = AuthorizationCode | ClientCredentials | ResourceOwnerPassword;

const grants = new WeakMap<TokenClientConfig, Map<string, GrantClass>>();

function moduleOptions(config: TokenClientConfig, url: URL): ModuleOptions {
  // A public client sends only client_id, and a JWT-authenticated one client_id beside the
  // assertion (extra body params of each call): naming both parameters client_id makes
  // simple-oauth2 write the id twice (same value) instead of adding a client_secret.
  const none = config.authMethod === 'none' || usesClientAssertion(config);
  const path = url.pathname + url.search;
  return {
    client: {
      id: config.clientId,
      secret: none ? config.clientId : (config.clientSecret ?? ''),
      idParamName: 'client_id',
      secretParamName: none ? 'client_id' : 'client_secret',
    },
    auth: { tokenHost: url.origin, tokenPath: path, refreshPath: path, revokePath: path },
    http: { json: 'force', timeout: config.timeoutMs, maxBytes: MAX_BODY_BYTES, redirects: false, headers: { ...config.headers } },
    options: {
      authorizationMethod: config.authMethod === 'client_secret_basic' ? 'header' : 'body',
      bodyFormat: 'form',
      credentialsEncodingMode: 'strict',
      scopeSeparator: ' ',
    },
  };
}

function grantFor(config: TokenClientConfig, kind: 'code', url: string): AuthorizationCode;
function grantFor(config: TokenClientConfig, kind: 'client', url: string): ClientCredentials;
function grantFor(config: TokenClientConfig, kind: 'password', url: string): ResourceOwnerPassword;
function grantFor(config: TokenClientConfig, kind: GrantKind, url: string): GrantClass {
  let byUrl = grants.get(config);
  if (!byUrl) grants.set(config, (byUrl = new Map()));
  const key = `${kind} ${url}`;
  let grant = byUrl.get(key);
  if (!grant) {
    const options = moduleOptions(config, new URL(url));
    grant = kind === 'code' ? new AuthorizationCode(options) : kind === 'client' ? new ClientCredentials(options) : new ResourceOwnerPassword(options);
    byUrl.set(key, grant);
  }
  return grant;
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
  url: string,
  requestSecrets: ReadonlyArray<string | undefined>,
  call: (auth: Record<string, string>) => Promise<AccessToken>,
): Promise<TokenEndpointBody> {
  const auth = await clientAssertionParams(config);
  const secrets = [config.clientSecret, auth.client_assertion, ...requestSecrets];
  let body: TokenEndpointBody;
  try {
    body = rawResponse((await call(auth)).token);
  } catch (err) {
    // RFC 9449 §8: an AS that wants a nonce says so in an error answer's DPoP-Nonce header.
    rememberNonce(url, (err as { data?: { res?: { headers?: Record<string, string> } } })?.data?.res?.headers?.['dpop-nonce']);
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

/**
 * RFC 9449: with a DPoP key, every attempt carries a fresh proof (simple-oauth2's per-call http
 * options); an AS answering `use_dpop_nonce` gets exactly one retry with the nonce it sent.
 */
async function withDpop(url: string, dpop: DpopKey | undefined, run: (httpOptions: HttpOptions) => Promise<TokenEndpointBody>): Promise<TokenEndpointBody> {
  if (!dpop) return run(undefined);
  const attempt = async () => run({ headers: { DPoP: await createDpopProof(dpop, { method: 'POST', url }) } });
  try {
    return await attempt();
  } catch (err) {
    if (!(err instanceof TokenEndpointError) || err.error !== 'use_dpop_nonce' || nonceFor(url) === undefined) throw err;
    return attempt();
  }
}

function withoutGrantType(extra: Record<string, string>): Record<string, string> {
  const { grant_type: _ignored, ...rest } = extra;
  return rest;
}

/**
 * Authorization code grant (RFC 6749 §4.1.3, RFC 7636 §4.5) through `AuthorizationCode#getToken`.
 * Returns the raw token response.
 */
export function exchangeCode(config: TokenClientConfig, tokenUrl: string, grant: { code: string; redirectUri: string; codeVerifier?: string }, dpop?: DpopKey): Promise<TokenEndpointBody> {
  const params = { code: grant.code, redirect_uri: grant.redirectUri, ...(grant.codeVerifier ? { code_verifier: grant.codeVerifier } : {}) };
  const client = grantFor(config, 'code', tokenUrl);
  return withDpop(tokenUrl, dpop, (http) => callTokenEndpoint(config, tokenUrl, [grant.code, grant.codeVerifier], (auth) => client.getToken({ ...params, ...auth }, http)));
}

/**
 * Refresh grant (RFC 6749 §6) through `createToken(...).refresh()`. When the response has no
 * `refresh_token` the one sent is kept (RFC 6749 §6; simple-oauth2 5.1.0 would leave `undefined`).
 */
export async function refreshGrant(config: TokenClientConfig, tokenUrl: string, refreshToken: string, dpop?: DpopKey): Promise<TokenEndpointBody> {
  const client = grantFor(config, 'code', tokenUrl);
  const body = await withDpop(tokenUrl, dpop, (http) => callTokenEndpoint(config, tokenUrl, [refreshToken], (auth) => client.createToken({ refresh_token: refreshToken }).refresh(auth, http)));
  if (typeof body.refresh_token !== 'string' || body.refresh_token === '') body.refresh_token = refreshToken;
  return body;
}

/** Client credentials grant (RFC 6749 §4.4) through `ClientCredentials#getToken`; `extra` adds e.g. scope, audience. */
export function clientCredentialsGrant(config: TokenClientConfig, tokenUrl: string, extra: Record<string, string> = {}, dpop?: DpopKey): Promise<TokenEndpointBody> {
  const client = grantFor(config, 'client', tokenUrl);
  return withDpop(tokenUrl, dpop, (http) => callTokenEndpoint(config, tokenUrl, [], (auth) => client.getToken({ ...withoutGrantType(extra), ...auth }, http)));
}

/** Resource owner password grant (RFC 6749 §4.3) through `ResourceOwnerPassword#getToken`. */
export function passwordGrantRequest(
  config: TokenClientConfig,
  tokenUrl: string,
  credentials: { username: string; password: string },
  extra: Record<string, string> = {},
  dpop?: DpopKey,
): Promise<TokenEndpointBody> {
  const client = grantFor(config, 'password', tokenUrl);
  const params = { ...withoutGrantType(extra), username: credentials.username, password: credentials.password };
  return withDpop(tokenUrl, dpop, (http) => callTokenEndpoint(config, tokenUrl, [credentials.password], (auth) => client.getToken({ ...params, ...auth }, http)));
}
