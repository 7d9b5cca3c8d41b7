// Options of the backend grant clients (clientCredentials, passwordGrant), checked by the same
// helpers as oauthMiddleware's: one bad value, one message, whichever factory receives it.
import type { ApiTarget } from '../client/bearer.js';
import type { TokenClientConfig } from '../protocol/token-endpoint.js';
import {
  assertDefaultTokenType,
  assertFetch,
  assertHttpUrl,
  assertLeeway,
  assertObject,
  assertOptionalBoolean,
  assertRecord,
  assertTimeout,
  normalizeScope,
  OptionPath,
  resolveApiTarget,
  resolveClientAuth,
  resolveTelemetry,
} from './assert.js';
import { assertKnownKeys, BACKEND_KEYS } from './option-keys.js';
import type { BackendClientOptions, FetchLike } from './options.js';

/** Validated backend-client options: what the token request and the bearer transport need. */
export interface ResolvedBackendOptions {
  target: ApiTarget;
  tokenClient: TokenClientConfig;
  tokenUrl: string;
  /** Token-request parameters (`tokenParams` and `scope`). */
  params: Record<string, string>;
  leewayMs: number;
  retryOn401: boolean;
  defaultTokenType: 'bearer' | undefined;
  fetch: FetchLike | undefined;
  /** RFC 9449 DPoP-bound tokens (`dpop: true`). */
  dpop: boolean;
  /** Spans on (the `telemetry` option, or whether `@opentelemetry/api` loads). */
  telemetry: boolean;
}

/**
 * Validate the options of a backend grant client (`factory` labels the TypeError, e.g.
 * ``clientCredentials: `tokenUrl` …``); `extraKeys` are the factory's own keys beyond
 * {@link BackendClientOptions} (`username`, `password`), validated by the caller.
 */
export function resolveBackendOptions(options: BackendClientOptions, factory: string, extraKeys: readonly string[] = []): ResolvedBackendOptions {
  const at = new OptionPath(factory);
  assertObject(options, at);
  assertKnownKeys(options, extraKeys.length > 0 ? [...BACKEND_KEYS, ...extraKeys] : BACKEND_KEYS, at);
  const auth = resolveClientAuth(options, at);
  // Mutual TLS is wired into the middleware's provider transport only: refused here rather than ignored.
  if (options.tlsClientCertificate !== undefined) throw at.key('tlsClientCertificate').error('is not supported by backend clients yet');
  if (auth.method === 'tls_client_auth' || auth.method === 'self_signed_tls_client_auth') throw at.key('tokenEndpointAuthMethod').error(`"${auth.method}" is not supported by backend clients yet`);
  const tokenUrl = assertHttpUrl(options.tokenUrl, at.key('tokenUrl'));
  if (!tokenUrl) throw at.key('tokenUrl').error('is required (a backend client does no discovery): pass it, or spread a preset that has one');
  const scope = normalizeScope(options.scope, at.key('scope'));
  const params: Record<string, string> = { ...assertRecord(options.tokenParams, at.key('tokenParams')) };
  if (scope.length > 0) params.scope = scope.join(' ');
  assertOptionalBoolean(options.retryOn401, at.key('retryOn401'));
  assertOptionalBoolean(options.dpop, at.key('dpop'));
  return {
    target: resolveApiTarget(options, at),
    tokenClient: {
      clientId: auth.clientId,
      clientSecret: auth.clientSecret,
      authMethod: auth.method,
      assertionKey: auth.assertionKey,
      assertionAudience: auth.assertionKey ? (assertHttpUrl(options.issuer, at.key('issuer')) ? options.issuer : options.tokenUrl) : undefined,
      headers: assertRecord(options.tokenRequestHeaders, at.key('tokenRequestHeaders')),
      timeoutMs: assertTimeout(options.httpTimeoutMs, at.key('httpTimeoutMs')),
    },
    tokenUrl: options.tokenUrl as string,
    params,
    leewayMs: assertLeeway(options.refreshLeewaySeconds, at.key('refreshLeewaySeconds')) * 1000,
    retryOn401: options.retryOn401 ?? true,
    defaultTokenType: assertDefaultTokenType(options.defaultTokenType, at.key('defaultTokenType')),
    fetch: assertFetch(options.fetch, at.key('fetch')),
    dpop: options.dpop ?? false,
    telemetry: resolveTelemetry(options.telemetry, at.key('telemetry')),
  };
}
