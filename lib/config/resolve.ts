import { inProcessLock } from '../session/lock.js';
import {
  assertDefaultTokenType,
  assertFetch,
  assertHttpUrl,
  assertLeeway,
  assertObject,
  assertOptionalBoolean,
  assertPath,
  assertRecord,
  assertTimeout,
  MAX_AGE,
  normalizeScope,
  OptionPath,
  resolveApiTarget,
  resolveClientAuth,
  resolveTelemetry,
} from './assert.js';
import { assertFapiProfile, assertProfile } from './fapi-profile.js';
import { resolveMessageSecurity } from './message-security.js';
import { assertCodeResponseType, assertKnownKeys, assertNoReservedParams, COMMON_KEYS, PROVIDER_KEYS, ROUTE_KEYS } from './option-keys.js';
import { resolveBackchannelLogout, resolveFrontchannelLogout } from './resolve-logout-channels.js';
import { resolveResponseMode } from './response-mode.js';
import { resolveTenancy } from './issuer-template.js';
import { resolveApis } from './resolve-apis.js';
import type { OAuthMiddlewareOptions, ProviderOptions, RouteOptions } from './options.js';
import type { ResolvedConfig, ResolvedProvider } from './resolved.js';

export { DEFAULT_HTTP_TIMEOUT_MS, DEFAULT_LEEWAY_SECONDS } from './assert.js';
/** The name of the provider of a single-provider config (`req.oauth` itself). */
export const DEFAULT_PROVIDER_NAME = 'default';
const PROVIDER_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;
/** `req.oauth.<name>` must not shadow a member of req.oauth. */
const RESERVED_PROVIDER_NAMES = new Set([
  'constructor',
  'user',
  'login',
  'fetch',
  'get',
  'post',
  'put',
  'patch',
  'delete',
  'provider',
  'providerName',
  'loginPath',
  'isAuthenticated',
  'isAuthenticatedWithAny',
  'getToken',
  'refresh',
  'logout',
  'userinfo',
  'toJSON',
  'api',
  'exchange',
  'toString',
  'valueOf',
]);

/** Same-origin relative path only: used for default redirects. */
function assertLocalRedirect(value: unknown, at: OptionPath): string {
  if (value === undefined) return '/';
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) {
    throw at.error('must be a same-origin path starting with "/"');
  }
  return value;
}

/** A record of authorization parameters without the reserved ones (RFC 6749 §4.1.1: the package sets them). */
function assertParamsRecord(value: unknown, at: OptionPath): Readonly<Record<string, string>> {
  const params = assertRecord(value, at);
  assertNoReservedParams(params, at, false);
  return params;
}

/**
 * The callback route must be where redirectUri sends the browser: its path, or the end of it when
 * the middleware is mounted under a prefix (`app.use('/auth', oauthMiddleware(...))` with
 * `routes.callback: '/callback'` and redirectUri `…/auth/callback`). Anything else ends every
 * login on the app's 404 page.
 */
function assertCallbackMatchesRedirect(callbackPath: string | false, redirect: URL, at: OptionPath): void {
  if (callbackPath === false) return;
  const path = redirect.pathname;
  // callbackPath starts with "/", so a matching end is a whole path segment.
  if (path.endsWith(callbackPath)) return;
  throw at.error(
    `is "${callbackPath}" but redirectUri (${redirect.origin}${path}) sends the browser to "${path}": every login would end on a 404. Make the callback route the path of redirectUri (or its end, when the middleware is mounted under a prefix).`,
  );
}

/** Misplaced keys: a provider key beside `providers`, or a top-level key inside one provider. */
const PROVIDER_KEY_AT_TOP = { keys: PROVIDER_KEYS, hint: 'belongs inside each `providers.<name>` entry when `providers` is given' };
const COMMON_KEY_IN_PROVIDER = { keys: COMMON_KEYS, hint: 'is not a per-provider option: set it at the top level, beside `providers`' };

function resolveProvider(name: string, input: ProviderOptions, at: OptionPath, routes: RouteOptions, multi: boolean): ResolvedProvider {
  assertObject(input, at);
  if (multi) assertKnownKeys(input, PROVIDER_KEYS, at, COMMON_KEY_IN_PROVIDER);
  const auth = resolveClientAuth(input, at);
  assertHttpUrl(input.authorizationUrl, at.key('authorizationUrl'));
  assertHttpUrl(input.tokenUrl, at.key('tokenUrl'));
  const issuer = assertHttpUrl(input.issuer, at.key('issuer'));
  if (!issuer && (!input.authorizationUrl || !input.tokenUrl)) {
    throw at.key(input.authorizationUrl ? 'tokenUrl' : 'authorizationUrl').error('is required unless `issuer` is set (discovery)');
  }
  assertHttpUrl(input.jwksUri, at.key('jwksUri'));
  const tenancy = resolveTenancy(input, at);
  assertHttpUrl(input.revocationUrl, at.key('revocationUrl'));
  assertHttpUrl(input.endSessionUrl, at.key('endSessionUrl'));
  assertHttpUrl(input.userinfoUrl, at.key('userinfoUrl'));
  assertOptionalBoolean(input.fetchUserInfo, at.key('fetchUserInfo'));
  if (input.fetchUserInfo && !input.userinfoUrl && !issuer) throw at.key('fetchUserInfo').error('needs `userinfoUrl`, or `issuer` to discover the UserInfo endpoint');
  const redirect = assertHttpUrl(input.redirectUri, at.key('redirectUri'), true, true) as URL;
  const authorizationParams = assertRecord(input.authorizationParams, at.key('authorizationParams'));
  assertCodeResponseType(authorizationParams, at.key('authorizationParams'));
  assertNoReservedParams(authorizationParams, at.key('authorizationParams'), true);
  if (authorizationParams.max_age !== undefined && !MAX_AGE.test(authorizationParams.max_age)) {
    throw at.key('authorizationParams').key('max_age').error('must be a whole number of seconds');
  }
  assertOptionalBoolean(input.authorizationResponseIssParameterSupported, at.key('authorizationResponseIssParameterSupported'));
  if (input.authorizationResponseIssParameterSupported && !issuer) {
    throw at.key('authorizationResponseIssParameterSupported').error('needs `issuer` (the value `iss` must equal)');
  }

  const api = resolveApiTarget(input, at);
  const leeway = assertLeeway(input.refreshLeewaySeconds, at.key('refreshLeewaySeconds'));
  assertOptionalBoolean(input.pkce, at.key('pkce'));
  assertOptionalBoolean(input.pushedAuthorizationRequests, at.key('pushedAuthorizationRequests'));
  if (input.pushedAuthorizationRequests && !issuer) {
    throw at.key('pushedAuthorizationRequests').error('needs `issuer`: the pushed authorization request endpoint is read from its discovery document');
  }
  assertOptionalBoolean(input.retryOn401, at.key('retryOn401'));
  assertOptionalBoolean(input.dpop, at.key('dpop'));
  const responseMode = resolveResponseMode(input.responseMode, at, redirect, authorizationParams, issuer);
  const security = resolveMessageSecurity(input, auth.method, at);
  const profile = assertProfile(input.profile, at.key('profile'));
  assertFapiProfile(profile, { input, method: auth.method, clientAssertion: auth.assertionKey, responseMode, ...security, mtls: security.tlsClientCertificate !== undefined }, at);

  const routesAt = new OptionPath(at.factory, 'routes');
  const loginBase = assertPath(routes.login, routesAt.key('login')) ?? '/login';
  const callbackOverride = assertPath(routes.callback, routesAt.key('callback'));
  let callbackPath: string | false = callbackOverride ?? redirect.pathname;
  if (multi && callbackOverride) callbackPath = `${callbackOverride}/${name}`;
  assertCallbackMatchesRedirect(callbackPath, redirect, multi ? routesAt.key('callback').key(name) : routesAt.key('callback'));

  return Object.freeze({
    name,
    clientId: auth.clientId,
    clientSecret: auth.clientSecret,
    authorizationUrl: input.authorizationUrl,
    tokenUrl: input.tokenUrl,
    issuer: input.issuer,
    ...tenancy,
    // FAPI 2.0 requires the `iss` of every authorization response (RFC 9207).
    authorizationResponseIssParameterSupported: input.authorizationResponseIssParameterSupported ?? profile !== undefined,
    foreignIssuers: [],
    jwksUri: input.jwksUri,
    revocationUrl: input.revocationUrl,
    endSessionUrl: input.endSessionUrl,
    userinfoUrl: input.userinfoUrl,
    fetchUserInfo: input.fetchUserInfo ?? false,
    redirectUri: input.redirectUri,
    scope: normalizeScope(input.scope, at.key('scope')),
    responseMode,
    authorizationParams,
    incrementalAuthorizationParams: assertParamsRecord(input.incrementalAuthorizationParams, at.key('incrementalAuthorizationParams')),
    tokenEndpointAuthMethod: auth.method,
    clientAssertion: auth.assertionKey,
    // JAR and FAPI 2.0 send the authorization request with PAR.
    pushedAuthorizationRequests: input.pushedAuthorizationRequests ?? (profile !== undefined || security.requestObjectKey !== undefined),
    pkce: input.pkce ?? true,
    ...api,
    tokenRequestHeaders: assertRecord(input.tokenRequestHeaders, at.key('tokenRequestHeaders')),
    defaultTokenType: assertDefaultTokenType(input.defaultTokenType, at.key('defaultTokenType')),
    refreshLeewayMs: leeway * 1000,
    retryOn401: input.retryOn401 ?? true,
    dpop: input.dpop ?? false,
    profile,
    ...security,
    loginPath: loginBase === false ? false : multi ? `${loginBase}/${name}` : loginBase,
    callbackPath,
    resources: Object.freeze([]),
  });
}

const SINGLE_PROVIDER_KEYS = [...PROVIDER_KEYS, ...COMMON_KEYS];

/**
 * Validate the options once, fill every default, and freeze the result. Throws a `TypeError`
 * (`code: 'ERR_OAUTH_CONFIG'`, `path`) for a bad value, an unknown key (naming the closest valid
 * one) or a response type other than `code`.
 */
export function resolveConfig(input: OAuthMiddlewareOptions): ResolvedConfig {
  const root = new OptionPath('oauthMiddleware');
  assertObject(input, root);
  const multi = input.providers !== undefined;
  if (multi) assertKnownKeys(input, COMMON_KEYS, root, PROVIDER_KEY_AT_TOP);
  else assertKnownKeys(input, SINGLE_PROVIDER_KEYS, root);
  const routes = input.routes ?? {};
  assertObject(routes, root.key('routes'));
  assertKnownKeys(routes, ROUTE_KEYS, root.key('routes'));

  const providers = new Map<string, ResolvedProvider>();
  if (multi) {
    const providersAt = root.key('providers');
    const entries = typeof input.providers === 'object' && input.providers !== null ? Object.entries(input.providers) : [];
    if (entries.length === 0) throw providersAt.error('must be an object with at least one provider');
    for (const [name, options] of entries) {
      if (!PROVIDER_NAME.test(name)) throw providersAt.key(name).error('name must be a letter followed by up to 31 letters, digits, "_" or "-"');
      if (RESERVED_PROVIDER_NAMES.has(name)) throw providersAt.key(name).error('name is taken by a req.oauth member; choose another');
      providers.set(name, resolveProvider(name, options as ProviderOptions, providersAt.key(name), routes, true));
    }
  } else {
    providers.set(DEFAULT_PROVIDER_NAME, resolveProvider(DEFAULT_PROVIDER_NAME, input as ProviderOptions, root, routes, false));
  }

  // Mix-up defence (RFC 9207): each provider knows the others' issuers, even when it has none itself.
  for (const [name, provider] of providers) {
    const foreignIssuers = [...providers.values()].filter((o) => o !== provider && o.issuer !== undefined && o.issuer !== provider.issuer).map((o) => o.issuer as string);
    providers.set(name, Object.freeze({ ...provider, foreignIssuers: Object.freeze(foreignIssuers) }));
  }

  const apis = resolveApis(input.apis, root, providers);

  const callbacks = new Map<string, string>();
  for (const provider of providers.values()) {
    if (provider.callbackPath === false) continue;
    const other = callbacks.get(provider.callbackPath);
    if (other) throw root.key(`providers.${provider.name}.redirectUri`).error(`has the same callback path as provider "${other}"; give each provider its own redirect URI path`);
    callbacks.set(provider.callbackPath, provider.name);
  }

  if (input.onTokens !== undefined && typeof input.onTokens !== 'function') throw root.key('onTokens').error('must be a function');
  const onRefreshFailure = input.onRefreshFailure ?? 'relogin';
  if (onRefreshFailure !== 'relogin' && onRefreshFailure !== 'error') throw root.key('onRefreshFailure').error('must be "relogin" or "error"');
  const lock = input.lock ?? inProcessLock;
  if (typeof lock !== 'object' || lock === null || typeof lock.acquire !== 'function' || typeof lock.waitForRelease !== 'function') {
    throw root.key('lock').error('must be a RefreshLock such as redisLock(client)');
  }

  const fetch = assertFetch(input.fetch, root.key('fetch'));
  const mtls = [...providers.values()].find((p) => p.tlsClientCertificate !== undefined);
  if (fetch && mtls)
    throw root
      .key('fetch')
      .error(`cannot be used with \`tlsClientCertificate\` (provider "${mtls.name}"): the package's own transport presents the certificate, a bound token never goes out without it`);

  const postLogoutRedirect = assertLocalRedirect(input.postLogoutRedirect, root.key('postLogoutRedirect'));
  assertOptionalBoolean(input.idpLogout, root.key('idpLogout'));
  const appOrigins = new Set([...providers.values()].map((p) => new URL(p.redirectUri).origin));
  // Kept as written: the provider compares it with the registered URI character for character.
  assertHttpUrl(input.postLogoutRedirectUri, root.key('postLogoutRedirectUri'), false, true);
  const postLogoutRedirectUri = input.postLogoutRedirectUri ?? `${[...appOrigins][0]}${postLogoutRedirect}`;

  const backchannelLogout = resolveBackchannelLogout(input.backchannelLogout, root.key('backchannelLogout'), providers);
  return Object.freeze({
    providers,
    single: multi ? undefined : providers.get(DEFAULT_PROVIDER_NAME),
    logoutPath: assertPath(routes.logout, root.key('routes').key('logout')) ?? '/logout',
    backchannelLogoutPath: backchannelLogout.path,
    backchannelLogoutEndsSession: backchannelLogout.endSession,
    frontchannelLogoutPath: resolveFrontchannelLogout(input.frontchannelLogout, root.key('frontchannelLogout'), providers),
    onTokens: input.onTokens,
    onRefreshFailure,
    lock,
    postLoginRedirect: assertLocalRedirect(input.postLoginRedirect, root.key('postLoginRedirect')),
    postLogoutRedirect,
    idpLogout: input.idpLogout ?? false,
    postLogoutRedirectUri,
    httpTimeoutMs: assertTimeout(input.httpTimeoutMs, root.key('httpTimeoutMs')),
    fetch,
    appOrigins,
    telemetry: resolveTelemetry(input.telemetry, root.key('telemetry')),
    apis,
  });
}
