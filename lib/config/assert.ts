// The one set of option checks, shared by oauthMiddleware() and the backend grant clients
// (clientCredentials, passwordGrant): the same bad value gets the same message from each factory.
import { configError } from '../errors.js';
import { loadOpenTelemetryApi } from '../telemetry/otel-api.js';
import type { ApiTarget } from '../client/bearer.js';
import { resolveClientAssertionKey } from './client-assertion-key.js';
import type { ClientAssertionKey, FetchLike, ProviderOptions, TokenEndpointAuthMethod } from './options.js';

/** Default `refreshLeewaySeconds`. */
export const DEFAULT_LEEWAY_SECONDS = 60;
/** Default `httpTimeoutMs`. */
export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;
/** `max_age` (OIDC Core §3.1.2.1): whole seconds. */
export const MAX_AGE = /^\d{1,10}$/;
const AUTH_METHODS: readonly TokenEndpointAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'none',
  'private_key_jwt',
  'client_secret_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
];
/** Methods that authenticate with the client secret (sent, or as the HMAC key of a JWT). */
const SECRET_METHODS: ReadonlySet<TokenEndpointAuthMethod> = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt']);
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Where an option sits: the factory that validates it and the dotted path inside its options. */
export class OptionPath {
  constructor(
    readonly factory: string,
    readonly path = '',
  ) {}

  /** `routes` → `routes.login`; `allowedOrigins` → `allowedOrigins[0]`. */
  key(name: string | number): OptionPath {
    if (typeof name === 'number') return new OptionPath(this.factory, `${this.path}[${name}]`);
    return new OptionPath(this.factory, this.path ? `${this.path}.${name}` : name);
  }

  /** `TypeError` with `code: 'ERR_OAUTH_CONFIG'`, e.g. ``oauthMiddleware: `scope` must be …``. */
  error(problem: string): TypeError & { code: string; path: string } {
    return configError(this.path || 'options', problem, this.factory);
  }
}

/** A plain object (not null, not an array). */
export function assertObject(value: unknown, at: OptionPath): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw at.error('must be an object');
}

/** A non-empty string; `undefined` passes when not `required`. */
export function assertString(value: unknown, at: OptionPath, required: boolean): asserts value is string | undefined {
  if (value === undefined && !required) return;
  if (typeof value !== 'string' || value.length === 0) throw at.error('must be a non-empty string');
}

/** A URL that may use plain http: its host is loopback (local development and tests). */
export function isLoopbackUrl(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname) || url.hostname.endsWith('.localhost');
}

/**
 * An absolute URL; https unless `allowHttp` or the host is loopback (local development and tests):
 * tokens, codes and client secrets must never cross a network in clear text.
 */
export function assertHttpUrl(value: unknown, at: OptionPath, required = false, allowHttp = false): URL | undefined {
  assertString(value, at, required);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw at.error('must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw at.error('must be an absolute http(s) URL');
  if (url.protocol === 'http:' && !allowHttp && !isLoopbackUrl(url)) {
    throw at.error('must use https (http is allowed only for loopback hosts)');
  }
  return url;
}

/** An object of string values (extra parameters or headers); frozen copy, `{}` when absent. */
export function assertRecord(value: unknown, at: OptionPath): Readonly<Record<string, string>> {
  if (value === undefined) return Object.freeze({});
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw at.error('must be an object of strings');
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw at.key(k).error('must be a string');
  }
  return Object.freeze({ ...(value as Record<string, string>) });
}

/** `true`, `false` or absent. */
export function assertOptionalBoolean(value: unknown, at: OptionPath): asserts value is boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') throw at.error('must be a boolean');
}

/** Scope as a string (space-separated) or an array; deduplicated and frozen. */
export function normalizeScope(value: unknown, at: OptionPath): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  const list = typeof value === 'string' ? value.split(' ').filter(Boolean) : value;
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || s.length === 0 || /\s/.test(s))) {
    throw at.error('must be a space-separated string or an array of scope strings');
  }
  return Object.freeze([...new Set(list as string[])]);
}

/** The token type assumed when a token response omits `token_type`: only `'bearer'` (RFC 6750). */
export function assertDefaultTokenType(value: unknown, at: OptionPath): 'bearer' | undefined {
  if (value !== undefined && value !== 'bearer') throw at.error('must be "bearer" or absent');
  return value;
}

/** Seconds before expiry at which a token is renewed; default 60. */
export function assertLeeway(value: unknown, at: OptionPath): number {
  const leeway = value ?? DEFAULT_LEEWAY_SECONDS;
  if (typeof leeway !== 'number' || !Number.isFinite(leeway) || leeway < 0) throw at.error('must be a number ≥ 0');
  return leeway;
}

/** A finite timeout in milliseconds; default 10000. */
export function assertTimeout(value: unknown, at: OptionPath): number {
  const timeout = value ?? DEFAULT_HTTP_TIMEOUT_MS;
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) throw at.error('must be a positive number');
  return timeout;
}

/** An injected fetch (tests, proxies, tracing), or absent. */
export function assertFetch(value: unknown, at: OptionPath): FetchLike | undefined {
  if (value !== undefined && typeof value !== 'function') throw at.error('must be a fetch-compatible function');
  return value as FetchLike | undefined;
}

/** The client's credentials and how they reach the token endpoint (RFC 6749 §2.3). */
export interface ClientAuth {
  clientId: string;
  clientSecret: string | undefined;
  method: TokenEndpointAuthMethod;
  /** `private_key_jwt` / `client_secret_jwt` (RFC 7523): the assertion signing key. */
  assertionKey: ClientAssertionKey | undefined;
}

type ClientAuthOptions = Pick<ProviderOptions, 'clientId' | 'clientSecret' | 'tokenEndpointAuthMethod' | 'clientAssertionKey' | 'clientAssertionAlg'>;

/**
 * `clientId`, `clientSecret`, `tokenEndpointAuthMethod` (default `client_secret_basic`, or `none`
 * without a secret) and, for the JWT methods, the client assertion key.
 */
export function resolveClientAuth(input: ClientAuthOptions, at: OptionPath): ClientAuth {
  assertString(input.clientId, at.key('clientId'), true);
  assertString(input.clientSecret, at.key('clientSecret'), false);
  const method = input.tokenEndpointAuthMethod ?? (input.clientSecret ? 'client_secret_basic' : 'none');
  if (!AUTH_METHODS.includes(method)) throw at.key('tokenEndpointAuthMethod').error(`must be one of ${AUTH_METHODS.join(', ')}`);
  if (SECRET_METHODS.has(method) && !input.clientSecret) throw at.key('clientSecret').error(`is required with tokenEndpointAuthMethod "${method}"`);
  const assertionKey = resolveClientAssertionKey(input, method, at);
  return { clientId: input.clientId, clientSecret: input.clientSecret, method, assertionKey };
}

/** Where a client's bearer token may go: base URL, allowed origins, placement, extra query/headers. */
export function resolveApiTarget(input: Pick<ProviderOptions, 'apiBaseUrl' | 'allowedOrigins' | 'tokenPlacement' | 'extraQuery' | 'apiHeaders'>, at: OptionPath): ApiTarget {
  const apiBase = assertHttpUrl(input.apiBaseUrl, at.key('apiBaseUrl'));
  let allowed: string[];
  if (input.allowedOrigins !== undefined) {
    const origins = at.key('allowedOrigins');
    if (!Array.isArray(input.allowedOrigins)) throw origins.error('must be an array of origins');
    allowed = input.allowedOrigins.map((o, i) => {
      const u = assertHttpUrl(o, origins.key(i), true) as URL;
      if (u.origin !== o.replace(/\/$/, '')) throw origins.key(i).error('must be an origin (scheme://host[:port]) with no path');
      return u.origin;
    });
  } else {
    allowed = apiBase ? [apiBase.origin] : [];
  }
  const placement = input.tokenPlacement ?? 'header';
  if (placement !== 'header' && placement !== 'query') throw at.key('tokenPlacement').error('must be "header" or "query"');
  return {
    apiBaseUrl: apiBase?.href,
    allowedOrigins: new Set(allowed),
    tokenPlacement: placement,
    extraQuery: assertRecord(input.extraQuery, at.key('extraQuery')),
    apiHeaders: assertRecord(input.apiHeaders, at.key('apiHeaders')),
  };
}

/** `telemetry`: default on when `@opentelemetry/api` is installed; `true` without it is refused (nothing would be reported). */
export function resolveTelemetry(value: unknown, at: OptionPath): boolean {
  assertOptionalBoolean(value, at);
  if (value === false) return false;
  const installed = loadOpenTelemetryApi() !== undefined;
  if (value === true && !installed) throw at.error('is true but `@opentelemetry/api` cannot be loaded: install it (npm i @opentelemetry/api), or remove the option');
  return installed;
}

/** A route path (`/…`, not `//…`), `false` to turn the route off, or undefined for the default. */
export function assertPath(value: unknown, at: OptionPath): string | false | undefined {
  if (value === undefined || value === false) return value;
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//')) {
    throw at.error('must be a path starting with "/" or false');
  }
  return value;
}
