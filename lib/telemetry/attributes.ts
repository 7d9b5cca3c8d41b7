// Attribute values for spans and metrics, following the OpenTelemetry semantic conventions
// (HTTP client spans: http.request.method, url.full, server.address, server.port,
// http.response.status_code, error.type). No token, code, secret or query value ever becomes an
// attribute: URLs lose their user info, fragment and every query value, errors give only their code.
import { TokenEndpointError } from '../errors.js';

export type AttributeValue = string | number | boolean;
export type Attributes = Record<string, AttributeValue | undefined>;

/** Attribute names of this package (the `oauth2.` namespace is not one of the semantic conventions'). */
export const ATTR = Object.freeze({
  provider: 'oauth2.provider',
  grantType: 'oauth2.grant_type',
  /** An RFC 6749 §5.2 error code the token endpoint answered (registered codes only). */
  oauthError: 'oauth2.error',
  refreshOutcome: 'oauth2.refresh.outcome',
  lockOutcome: 'oauth2.lock.outcome',
  logoutReason: 'oauth2.logout.reason',
  revokedTokens: 'oauth2.revoke.token_count',
  par: 'oauth2.par',
  stepUp: 'oauth2.step_up',
});

/** The value that replaces every query parameter value in `url.full`. */
export const REDACTED = 'REDACTED';

const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'QUERY', 'TRACE']);

/**
 * `url.full` without credentials: no user info, no fragment, and every query value replaced by
 * `REDACTED` (an API key in `extraQuery`, `access_token` with `tokenPlacement: 'query'`): the
 * parameter names stay, they tell requests apart.
 */
export function redactedUrl(url: URL): string {
  let query = '';
  if (url.search) {
    const names: string[] = [];
    for (const name of url.searchParams.keys()) names.push(`${encodeURIComponent(name)}=${REDACTED}`);
    query = `?${names.join('&')}`;
  }
  return `${url.protocol}//${url.host}${url.pathname}${query}`;
}

/** `server.port`: the URL's port, or the scheme's default one. */
function portOf(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'http:' ? 80 : 443;
}

/** The attributes of an HTTP client span, before its response (semantic conventions: HTTP client). */
export function httpClientAttributes(method: string, url: URL): Attributes {
  const known = KNOWN_METHODS.has(method);
  return {
    'http.request.method': known ? method : '_OTHER',
    'http.request.method_original': known ? undefined : method,
    'url.full': redactedUrl(url),
    'server.address': url.hostname,
    'server.port': portOf(url),
  };
}

/** Span name of an HTTP client span: the method (`_OTHER` → `HTTP`). */
export function httpSpanName(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'HTTP';
}

/** RFC 6749 §5.2 error codes, the two of §4.1.2.1 some token endpoints send too, RFC 9449's and RFC 8707's `invalid_target` (RFC 8693 uses it too): bounded, never a free text. */
const TOKEN_ERROR_CODES = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_dpop_proof',
  'use_dpop_nonce',
  'server_error',
  'temporarily_unavailable',
  'invalid_target',
]);

/**
 * `error.type`: the package's error code (`OAUTH_TIMEOUT`, …), else a code the runtime gave
 * (`ECONNREFUSED`, `UND_ERR_SOCKET`), else the error's class name, else `_OTHER`. Never a message.
 */
export function errorType(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(code)) return code;
  const name = (err as { name?: unknown } | null)?.name;
  if (typeof name === 'string' && /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name)) return name;
  return '_OTHER';
}

/** The token endpoint's registered error code behind `err` (itself or its cause), else undefined. */
export function oauthErrorCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof TokenEndpointError && e.error !== undefined && TOKEN_ERROR_CODES.has(e.error)) return e.error;
  }
  return undefined;
}

/** A token-endpoint call (a CLIENT span: simple-oauth2 sends it, so it has no transport span of its own). */
export function tokenRequestAttributes(provider: string | undefined, tokenUrl: string, grantType: string): Attributes {
  return { ...httpClientAttributes('POST', new URL(tokenUrl)), [ATTR.provider]: provider, [ATTR.grantType]: grantType };
}
