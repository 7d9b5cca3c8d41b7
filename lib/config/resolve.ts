import { configError } from '../errors.js';
import type { ApiTarget } from '../client/bearer.js';
import { inProcessLock } from '../session/lock.js';
import type {
  OAuthMiddlewareOptions,
  ProviderOptions,
  ResolvedConfig,
  ResolvedProvider,
  RouteOptions,
} from './options.js';

export const DEFAULT_LEEWAY_SECONDS = 60;
export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;
export const DEFAULT_PROVIDER_NAME = 'default';
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;
const PROVIDER_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;
/** `req.oauth.<name>` must not shadow a member of req.oauth. */
const RESERVED_PROVIDER_NAMES = new Set([
  'constructor', 'user', 'fetch', 'get', 'post', 'put', 'patch', 'delete', 'provider', 'providerName', 'loginPath',
  'isAuthenticated', 'isAuthenticatedWithAny', 'getToken', 'refresh', 'logout', 'toJSON', 'toString', 'valueOf',
]);

export function assertString(value: unknown, path: string, required: boolean): asserts value is string | undefined {
  if (value === undefined && !required) return;
  if (typeof value !== 'string' || value.length === 0) throw configError(path, 'must be a non-empty string');
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * An absolute URL; https unless `allowHttp` or the host is loopback (local development and tests):
 * tokens, codes and client secrets must never cross a network in clear text.
 */
export function assertHttpUrl(value: unknown, path: string, required = false, allowHttp = false): URL | undefined {
  assertString(value, path, required);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError(path, 'must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw configError(path, 'must be an absolute http(s) URL');
  if (url.protocol === 'http:' && !allowHttp && !LOOPBACK_HOSTS.has(url.hostname) && !url.hostname.endsWith('.localhost')) {
    throw configError(path, 'must use https (http is allowed only for loopback hosts)');
  }
  return url;
}

export function assertRecord(value: unknown, path: string): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw configError(path, 'must be an object of strings');
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw configError(`${path}.${k}`, 'must be a string');
  }
  return Object.freeze({ ...(value as Record<string, string>) });
}

function assertPath(value: unknown, path: string): string | false | undefined {
  if (value === undefined || value === false) return value;
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//')) {
    throw configError(path, 'must be a path starting with "/" or false');
  }
  return value;
}

/** Same-origin relative path only: used for default redirects. */
function assertLocalRedirect(value: unknown, path: string): string {
  if (value === undefined) return '/';
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) {
    throw configError(path, 'must be a same-origin path starting with "/"');
  }
  return value;
}

export function normalizeScope(value: unknown, path: string): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  const list = typeof value === 'string' ? value.split(' ').filter(Boolean) : value;
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || s.length === 0 || /\s/.test(s))) {
    throw configError(path, 'must be a space-separated string or an array of scope strings');
  }
  return Object.freeze([...new Set(list as string[])]);
}

function assertDefaultTokenType(value: unknown, path: string): 'bearer' | undefined {
  if (value !== undefined && value !== 'bearer') throw configError(path, 'must be "bearer" or absent');
  return value;
}

export function assertLeeway(value: unknown, path: string): number {
  const leeway = value ?? DEFAULT_LEEWAY_SECONDS;
  if (typeof leeway !== 'number' || !Number.isFinite(leeway) || leeway < 0) throw configError(path, 'must be a number ≥ 0');
  return leeway;
}

/** Where a client's bearer token may go: base URL, allowed origins, placement, extra query/headers. */
export function resolveApiTarget(input: Pick<ProviderOptions, 'apiBaseUrl' | 'allowedOrigins' | 'tokenPlacement' | 'extraQuery' | 'apiHeaders'>, prefix: string): ApiTarget {
  const p = (key: string) => (prefix ? `${prefix}.${key}` : key);
  const apiBase = assertHttpUrl(input.apiBaseUrl, p('apiBaseUrl'));
  let allowed: string[];
  if (input.allowedOrigins !== undefined) {
    if (!Array.isArray(input.allowedOrigins)) throw configError(p('allowedOrigins'), 'must be an array of origins');
    allowed = input.allowedOrigins.map((o, i) => {
      const u = assertHttpUrl(o, `${p('allowedOrigins')}[${i}]`, true) as URL;
      if (u.origin !== o.replace(/\/$/, '')) throw configError(`${p('allowedOrigins')}[${i}]`, 'must be an origin (scheme://host[:port]) with no path');
      return u.origin;
    });
  } else {
    allowed = apiBase ? [apiBase.origin] : [];
  }
  const placement = input.tokenPlacement ?? 'header';
  if (placement !== 'header' && placement !== 'query') throw configError(p('tokenPlacement'), 'must be "header" or "query"');
  return {
    apiBaseUrl: apiBase?.href,
    allowedOrigins: new Set(allowed),
    tokenPlacement: placement,
    extraQuery: assertRecord(input.extraQuery, p('extraQuery')),
    apiHeaders: assertRecord(input.apiHeaders, p('apiHeaders')),
  };
}

function resolveProvider(
  name: string,
  input: ProviderOptions,
  prefix: string,
  routes: RouteOptions,
  multi: boolean,
): ResolvedProvider {
  const p = (key: string) => (prefix ? `${prefix}.${key}` : key);
  if (typeof input !== 'object' || input === null) throw configError(prefix || 'config', 'must be an object');
  assertString(input.clientId, p('clientId'), true);
  assertString(input.clientSecret, p('clientSecret'), false);
  assertHttpUrl(input.authorizationUrl, p('authorizationUrl'));
  assertHttpUrl(input.tokenUrl, p('tokenUrl'));
  const issuer = assertHttpUrl(input.issuer, p('issuer'));
  if (!issuer && (!input.authorizationUrl || !input.tokenUrl)) {
    throw configError(p(input.authorizationUrl ? 'tokenUrl' : 'authorizationUrl'), 'is required unless `issuer` is set (discovery)');
  }
  assertHttpUrl(input.jwksUri, p('jwksUri'));
  assertHttpUrl(input.revocationUrl, p('revocationUrl'));
  assertHttpUrl(input.endSessionUrl, p('endSessionUrl'));
  const redirect = assertHttpUrl(input.redirectUri, p('redirectUri'), true, true) as URL;

  const method = input.tokenEndpointAuthMethod ?? (input.clientSecret ? 'client_secret_basic' : 'none');
  if (!AUTH_METHODS.includes(method)) throw configError(p('tokenEndpointAuthMethod'), `must be one of ${AUTH_METHODS.join(', ')}`);
  if (method !== 'none' && !input.clientSecret) throw configError(p('clientSecret'), `is required with tokenEndpointAuthMethod "${method}"`);

  const api = resolveApiTarget(input, prefix);
  const leeway = assertLeeway(input.refreshLeewaySeconds, p('refreshLeewaySeconds'));
  if (input.pkce !== undefined && typeof input.pkce !== 'boolean') throw configError(p('pkce'), 'must be a boolean');
  if (input.retryOn401 !== undefined && typeof input.retryOn401 !== 'boolean') throw configError(p('retryOn401'), 'must be a boolean');

  const loginBase = assertPath(routes.login, 'routes.login') ?? '/login';
  const callbackOverride = assertPath(routes.callback, 'routes.callback');
  let callbackPath: string | false = callbackOverride ?? redirect.pathname;
  if (multi && callbackOverride) callbackPath = `${callbackOverride}/${name}`;

  return Object.freeze({
    name,
    clientId: input.clientId,
    clientSecret: input.clientSecret,
    authorizationUrl: input.authorizationUrl,
    tokenUrl: input.tokenUrl,
    issuer: input.issuer,
    jwksUri: input.jwksUri,
    revocationUrl: input.revocationUrl,
    endSessionUrl: input.endSessionUrl,
    redirectUri: input.redirectUri,
    scope: normalizeScope(input.scope, p('scope')),
    authorizationParams: assertRecord(input.authorizationParams, p('authorizationParams')),
    tokenEndpointAuthMethod: method,
    pkce: input.pkce ?? true,
    ...api,
    tokenRequestHeaders: assertRecord(input.tokenRequestHeaders, p('tokenRequestHeaders')),
    defaultTokenType: assertDefaultTokenType(input.defaultTokenType, p('defaultTokenType')),
    refreshLeewayMs: leeway * 1000,
    retryOn401: input.retryOn401 ?? true,
    loginPath: loginBase === false ? false : multi ? `${loginBase}/${name}` : loginBase,
    callbackPath,
  });
}

/** Validate the options once, fill every default, and freeze the result. */
export function resolveConfig(input: OAuthMiddlewareOptions): ResolvedConfig {
  if (typeof input !== 'object' || input === null) throw configError('config', 'must be an object');
  const routes = input.routes ?? {};
  if (typeof routes !== 'object' || routes === null) throw configError('routes', 'must be an object');

  const providers = new Map<string, ResolvedProvider>();
  if (input.providers !== undefined) {
    const entries = typeof input.providers === 'object' && input.providers !== null ? Object.entries(input.providers) : [];
    if (entries.length === 0) throw configError('providers', 'must be an object with at least one provider');
    for (const [name, options] of entries) {
      if (!PROVIDER_NAME.test(name)) throw configError(`providers.${name}`, 'name must be a letter followed by up to 31 letters, digits, "_" or "-"');
      if (RESERVED_PROVIDER_NAMES.has(name)) throw configError(`providers.${name}`, 'name is taken by a req.oauth member; choose another');
      providers.set(name, resolveProvider(name, options as ProviderOptions, `providers.${name}`, routes, true));
    }
  } else {
    providers.set(DEFAULT_PROVIDER_NAME, resolveProvider(DEFAULT_PROVIDER_NAME, input as ProviderOptions, '', routes, false));
  }

  const callbacks = new Map<string, string>();
  for (const provider of providers.values()) {
    if (provider.callbackPath === false) continue;
    const other = callbacks.get(provider.callbackPath);
    if (other) throw configError(`providers.${provider.name}.redirectUri`, `has the same callback path as provider "${other}"; give each provider its own redirect URI path`);
    callbacks.set(provider.callbackPath, provider.name);
  }

  if (input.onTokens !== undefined && typeof input.onTokens !== 'function') throw configError('onTokens', 'must be a function');
  const onRefreshFailure = input.onRefreshFailure ?? 'relogin';
  if (onRefreshFailure !== 'relogin' && onRefreshFailure !== 'error') throw configError('onRefreshFailure', 'must be "relogin" or "error"');
  const lock = input.lock ?? inProcessLock;
  if (typeof lock !== 'object' || lock === null || typeof lock.acquire !== 'function' || typeof lock.waitForRelease !== 'function') {
    throw configError('lock', 'must be a RefreshLock such as redisLock(client)');
  }
  const timeout = input.httpTimeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) throw configError('httpTimeoutMs', 'must be a positive number');
  if (input.fetch !== undefined && typeof input.fetch !== 'function') throw configError('fetch', 'must be a fetch-compatible function');

  const single = input.providers === undefined ? providers.get(DEFAULT_PROVIDER_NAME) : undefined;
  return Object.freeze({
    providers,
    single,
    logoutPath: assertPath(routes.logout, 'routes.logout') ?? '/logout',
    onTokens: input.onTokens,
    onRefreshFailure,
    lock,
    postLoginRedirect: assertLocalRedirect(input.postLoginRedirect, 'postLoginRedirect'),
    postLogoutRedirect: assertLocalRedirect(input.postLogoutRedirect, 'postLogoutRedirect'),
    httpTimeoutMs: timeout,
    fetch: input.fetch,
    appOrigins: new Set([...providers.values()].map((p) => new URL(p.redirectUri).origin)),
  });
}
