import { assertHttpUrl, assertObject, assertString, normalizeScope, OptionPath } from './assert.js';
import { API_EXCHANGE_KEYS, API_KEYS, assertKnownKeys } from './option-keys.js';
import type { ApiOptions } from './options.js';
import type { ResolvedApi, ResolvedApiExchange, ResolvedProvider } from './resolved.js';

const API_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** RFC 8707 §2: an absolute URI with no fragment (a query is discouraged but allowed). */
function assertResource(value: unknown, at: OptionPath): string | undefined {
  assertString(value, at, false);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw at.error('must be an absolute URI (RFC 8707)');
  }
  if (url.hash !== '' || value.includes('#')) throw at.error('must not have a fragment (RFC 8707 §2)');
  return value;
}

function resolveExchange(value: unknown, at: OptionPath): ResolvedApiExchange | undefined {
  if (value === undefined) return undefined;
  assertObject(value, at);
  assertKnownKeys(value, API_EXCHANGE_KEYS, at);
  assertString(value.audience, at.key('audience'), false);
  const resource = assertResource(value.resource, at.key('resource'));
  if (value.audience === undefined && resource === undefined) throw at.error('needs `audience` or `resource` (RFC 8693 §2.1)');
  return Object.freeze({ audience: value.audience, resource, scope: normalizeScope(value.scope, at.key('scope')) });
}

function resolveApi(name: string, input: unknown, at: OptionPath, providers: ReadonlyMap<string, ResolvedProvider>): ResolvedApi {
  if (!API_NAME.test(name)) throw at.error('name must be a letter followed by up to 63 letters, digits, "_" or "-"');
  assertObject(input, at);
  assertKnownKeys(input, API_KEYS, at);
  const options = input as unknown as ApiOptions;
  const url = assertHttpUrl(options.url, at.key('url'), true) as URL;
  if (url.search !== '' || url.hash !== '') throw at.key('url').error('must be a base URL with no query or fragment');
  const resource = assertResource(options.resource, at.key('resource'));
  const scope = normalizeScope(options.scope, at.key('scope'));
  assertString(options.provider, at.key('provider'), false);
  let provider = options.provider;
  if (provider === undefined) {
    if (providers.size > 1) throw at.key('provider').error(`is required with several providers (one of ${[...providers.keys()].join(', ')})`);
    provider = [...providers.keys()][0] as string;
  } else if (!providers.has(provider)) {
    throw at.key('provider').error(`names no configured provider (one of ${[...providers.keys()].join(', ')})`);
  }
  const exchange = resolveExchange(options.exchange, at.key('exchange'));
  if (exchange && resource !== undefined) throw at.key('exchange').error('cannot be combined with `resource`: put the resource inside `exchange`');
  if (!resource && !exchange && scope.length > 0) throw at.key('scope').error("needs `resource` or `exchange`: without them the API uses the login token, whose scope is the login's");
  const apiHeaders = (providers.get(provider) as ResolvedProvider).apiHeaders;
  return Object.freeze({
    name,
    url: url.href,
    origin: url.origin,
    resource,
    scope,
    provider,
    exchange,
    ownToken: resource !== undefined || exchange !== undefined,
    target: Object.freeze({ apiBaseUrl: url.href, allowedOrigins: new Set([url.origin]), tokenPlacement: 'header' as const, extraQuery: Object.freeze({}), apiHeaders }),
  });
}

/**
 * `apis`: each entry validated (`TypeError` naming `apis.<name>.<key>`), two APIs may not share a
 * `url`. Returns the APIs by name, and each provider's `resources` (for its authorization requests).
 */
export function resolveApis(input: unknown, root: OptionPath, providers: Map<string, ResolvedProvider>): ReadonlyMap<string, ResolvedApi> {
  const apis = new Map<string, ResolvedApi>();
  if (input === undefined) return apis;
  const at = root.key('apis');
  assertObject(input, at);
  const urls = new Map<string, string>();
  for (const [name, options] of Object.entries(input)) {
    const api = resolveApi(name, options, at.key(name), providers);
    const other = urls.get(api.url);
    if (other) throw at.key(name).key('url').error(`is also the url of API "${other}"; each API needs its own base URL`);
    urls.set(api.url, name);
    apis.set(name, api);
  }
  // RFC 8707 §2.1: the login asks for every API's resource and scope, so its grant covers them.
  for (const [name, provider] of providers) {
    const own = [...apis.values()].filter((a) => a.provider === name && a.resource !== undefined);
    if (own.length === 0) continue;
    const resources = [...new Set(own.map((a) => a.resource as string))];
    const scope = [...new Set([...provider.scope, ...own.flatMap((a) => a.scope)])];
    providers.set(name, Object.freeze({ ...provider, scope: Object.freeze(scope), resources: Object.freeze(resources) }));
  }
  return apis;
}
