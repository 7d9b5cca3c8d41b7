// Option names each factory knows, and the refusal of every other name at startup: a misspelt
// option (`scopes`, `redirectUrl`) would otherwise be ignored and its default used in silence.
import type {
  ApiExchangeOptions,
  ApiOptions,
  BackchannelLogoutOptions,
  BackendClientOptions,
  FrontchannelLogoutOptions,
  MultiProviderOptions,
  ProviderOptions,
  RouteOptions,
  TlsClientCertificate,
} from './options.js';
import type { OptionPath } from './assert.js';

/** `Record<keyof T, true>` makes tsc list a new option here the day it is added to the type. */
function keyList<T>(keys: Record<keyof T, true>): readonly string[] {
  return Object.freeze(Object.keys(keys));
}

/** Keys of one provider (the whole config of a single-provider app, with COMMON_KEYS). */
export const PROVIDER_KEYS = keyList<ProviderOptions>({
  clientId: true,
  clientSecret: true,
  authorizationUrl: true,
  tokenUrl: true,
  issuer: true,
  discoveryUrl: true,
  allowedTenants: true,
  authorizationResponseIssParameterSupported: true,
  jwksUri: true,
  revocationUrl: true,
  endSessionUrl: true,
  redirectUri: true,
  scope: true,
  authorizationParams: true,
  tokenEndpointAuthMethod: true,
  pkce: true,
  apiBaseUrl: true,
  allowedOrigins: true,
  tokenPlacement: true,
  extraQuery: true,
  apiHeaders: true,
  tokenRequestHeaders: true,
  defaultTokenType: true,
  refreshLeewaySeconds: true,
  retryOn401: true,
  clientAssertionKey: true,
  clientAssertionAlg: true,
  pushedAuthorizationRequests: true,
  userinfoUrl: true,
  fetchUserInfo: true,
  incrementalAuthorizationParams: true,
  dpop: true,
  profile: true,
  requestObjects: true,
  requestObjectSigningKey: true,
  responseMode: true,
  tlsClientCertificate: true,
});

/** Keys that apply to every provider (the top level, beside `providers`). */
export const COMMON_KEYS = keyList<MultiProviderOptions>({
  routes: true,
  onTokens: true,
  onRefreshFailure: true,
  lock: true,
  postLoginRedirect: true,
  postLogoutRedirect: true,
  idpLogout: true,
  postLogoutRedirectUri: true,
  httpTimeoutMs: true,
  fetch: true,
  backchannelLogout: true,
  telemetry: true,
  frontchannelLogout: true,
  apis: true,
  providers: true,
});

/** Keys of one `apis.<name>` entry. */
export const API_KEYS = keyList<ApiOptions>({ url: true, resource: true, scope: true, provider: true, exchange: true });

/** Keys of `apis.<name>.exchange`. */
export const API_EXCHANGE_KEYS = keyList<ApiExchangeOptions>({ audience: true, resource: true, scope: true });

/** Keys of `tlsClientCertificate`. */
export const TLS_CLIENT_CERTIFICATE_KEYS = keyList<TlsClientCertificate>({ cert: true, key: true, ca: true });

/** Keys of `routes`. */
export const ROUTE_KEYS = keyList<RouteOptions>({ login: true, callback: true, logout: true });

/** Keys of `backchannelLogout` when it is an object. */
export const BACKCHANNEL_LOGOUT_KEYS = keyList<BackchannelLogoutOptions>({ path: true, endSession: true });

/** Keys of `frontchannelLogout` when it is an object. */
export const FRONTCHANNEL_LOGOUT_KEYS = keyList<FrontchannelLogoutOptions>({ path: true });

/** Keys of `clientCredentials()`: the provider keys (a preset spreads them in; unused ones are ignored) and its own. */
export const BACKEND_KEYS: readonly string[] = Object.freeze([
  ...PROVIDER_KEYS.filter((k) => k !== 'redirectUri'),
  ...keyList<Omit<BackendClientOptions, keyof ProviderOptions>>({ tokenParams: true, httpTimeoutMs: true, fetch: true, telemetry: true }),
]);

/** Where a key that is valid elsewhere belongs, when it is given at the wrong level. */
export interface KeyPlacement {
  keys: readonly string[];
  hint: string;
}

const RESPONSE_TYPE_KEYS = new Set(['responseType', 'response_type']);
const IMPLICIT_FLOW_FAQ =
  'implicit and hybrid flows are not supported (OAuth 2.1 removes the implicit grant: tokens in the browser URL leak and cannot be kept server-side); see "Why no implicit flow?" in docs/faq.md';

/**
 * Throws a `TypeError` for the first key of `input` that is not in `known`, naming its path and the
 * closest valid key. `misplaced` explains keys that are valid at another level.
 */
export function assertKnownKeys(input: object, known: readonly string[], at: OptionPath, misplaced?: KeyPlacement): void {
  for (const [key, value] of Object.entries(input)) {
    if (known.includes(key)) continue;
    if (RESPONSE_TYPE_KEYS.has(key)) {
      if (value !== 'code') throw at.key(key).error(`must be "code": ${IMPLICIT_FLOW_FAQ}`);
      throw at.key(key).error('is not an option: the authorization code flow (response_type=code) is always used; remove it');
    }
    if (misplaced?.keys.includes(key)) throw at.key(key).error(misplaced.hint);
    const suggestion = closestKey(key, known);
    throw at.key(key).error(suggestion ? `is not an option; did you mean \`${suggestion}\`?` : 'is not an option');
  }
}

/**
 * Authorization request parameters the package sets on every login (RFC 6749 §4.1.1, RFC 7636,
 * OIDC): refused in `authorizationParams` (config and `req.oauth.login`), where they would be
 * ignored or break the login.
 */
export const RESERVED_AUTHORIZATION_PARAMS: ReadonlySet<string> = new Set([
  'client_id',
  'redirect_uri',
  'response_type',
  'response_mode',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
]);
/** Checked by their own config rules (`response_type` may be `code`; `response_mode` belongs to `responseMode`). */
const CONFIG_CHECKED_APART = new Set(['response_type', 'response_mode']);

/** Refuse reserved parameters in an `authorizationParams` record (in config, `response_type` and `response_mode` have their own checks). */
export function assertNoReservedParams(params: Readonly<Record<string, string>>, at: OptionPath, inConfig: boolean): void {
  for (const name of Object.keys(params)) {
    if (!RESERVED_AUTHORIZATION_PARAMS.has(name) || (inConfig && CONFIG_CHECKED_APART.has(name))) continue;
    throw at.key(name).error(name === 'scope' ? 'is not allowed: use the `scope` option' : 'is set by the package for each login and cannot be given');
  }
}

/** `authorizationParams.response_type`, when given, must be `code` (RFC 6749 §4.1.1; OAuth 2.1). */
export function assertCodeResponseType(params: Readonly<Record<string, string>>, at: OptionPath): void {
  const value = params.response_type;
  if (value !== undefined && value !== 'code') throw at.key('response_type').error(`must be "code": ${IMPLICIT_FLOW_FAQ}`);
}

/** The valid key nearest to `key` (edit distance, ignoring case, `_` and `-`), or undefined when none is close. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const normalize = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const wanted = normalize(key);
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(wanted.length / 3));
  for (const candidate of known) {
    const distance = editDistance(wanted, normalize(candidate));
    if (distance < bestDistance || (distance === bestDistance && best === undefined)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === undefined && wanted.length >= 4) best = known.find((k) => normalize(k).includes(wanted) || wanted.includes(normalize(k)));
  return best;
}

/** Levenshtein distance (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] as number;
}
