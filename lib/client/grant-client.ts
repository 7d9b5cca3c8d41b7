// The backend (non-user) client shared by clientCredentials() and passwordGrant(): one cached
// token, renewed before expiry with one token request in flight, and the req.oauth fetch helpers.
import type { FetchLike, ProviderOptions } from '../config/options.js';
import { assertHttpUrl, assertLeeway, assertRecord, assertString, normalizeScope, resolveApiTarget, DEFAULT_HTTP_TIMEOUT_MS } from '../config/resolve.js';
import { debugFor, tokenId } from '../debug.js';
import { configError } from '../errors.js';
import type { ApiRequestInit } from './transport.js';
import { BearerMethods, isInvalidTokenChallenge, isRetryable, prepareRequest, sendWithToken, type ApiTarget } from './bearer.js';
import type { TokenClientConfig } from '../protocol/token-endpoint.js';
import { fromTokenResponse, isExpiring, type TokenSet } from '../protocol/token-set.js';

const log = debugFor('grant');

/** Options shared by the backend (non-user) clients; the common ones mean what they mean for a provider. */
export interface BackendClientOptions
  extends Pick<
    ProviderOptions,
    | 'clientId' | 'clientSecret' | 'scope' | 'tokenEndpointAuthMethod' | 'refreshLeewaySeconds' | 'retryOn401'
    | 'apiBaseUrl' | 'allowedOrigins' | 'tokenPlacement' | 'extraQuery' | 'apiHeaders' | 'tokenRequestHeaders'
  > {
  tokenUrl: string;
  /** Extra token-request parameters, e.g. `{ audience: 'https://api.example' }` or `{ resource }`. */
  tokenParams?: Record<string, string>;
  /** Default 10000. */
  httpTimeoutMs?: number;
  fetch?: FetchLike;
}

/** A backend client: a cached token (renewed before expiry, one request in flight) + fetch helpers. */
export class GrantClient extends BearerMethods {
  readonly #target: ApiTarget;
  readonly #request: () => Promise<Record<string, unknown>>;
  readonly #leewayMs: number;
  readonly #retryOn401: boolean;
  readonly #fetch: FetchLike | undefined;
  #token: TokenSet | undefined;
  #inflight: Promise<TokenSet> | undefined;

  constructor(target: ApiTarget, request: () => Promise<Record<string, unknown>>, options: { leewayMs: number; retryOn401: boolean; fetch: FetchLike | undefined }) {
    super();
    this.#target = target;
    this.#request = request;
    this.#leewayMs = options.leewayMs;
    this.#retryOn401 = options.retryOn401;
    this.#fetch = options.fetch;
  }

  /** The cached token, or a new one when it expires within the leeway (or `force`). */
  async getToken(force = false): Promise<Readonly<TokenSet>> {
    const current = this.#token;
    if (!force && current && !isExpiring(current, Date.now(), this.#leewayMs)) return current;
    this.#inflight ??= this.#request()
      .then((body) => {
        const token = Object.freeze(fromTokenResponse(body, Date.now()));
        log('new backend token %s', tokenId(token.accessToken));
        this.#token = token;
        return token;
      })
      .finally(() => {
        this.#inflight = undefined;
      });
    return this.#inflight;
  }

  /** Forget the cached token (the next call requests a new one). */
  invalidate(): void {
    this.#token = undefined;
  }

  async fetch(input: string | URL, init: ApiRequestInit = {}): Promise<Response> {
    const req = prepareRequest(this.#target, input, init);
    const token = await this.getToken();
    const res = await sendWithToken(this.#target, req, token.accessToken, this.#fetch);
    if (res.status !== 401 || !this.#retryOn401 || !isInvalidTokenChallenge(res)) return res;
    const fresh = this.#token === token ? await this.getToken(true) : await this.getToken();
    if (!isRetryable(req)) return res;
    await res.body?.cancel();
    return sendWithToken(this.#target, req, fresh.accessToken, this.#fetch);
  }

  toJSON(): Record<string, unknown> {
    return { hasToken: this.#token !== undefined, expiresAt: this.#token?.expiresAt };
  }
}

/** Validate backend-client options (TypeError naming `<factory>.<option>`) and build the pieces. */
export function resolveBackendOptions(options: BackendClientOptions, factory: string) {
  if (typeof options !== 'object' || options === null) throw configError(factory, 'must be given an options object');
  const p = (key: string) => `${factory}.${key}`;
  assertString(options.clientId, p('clientId'), true);
  assertString(options.clientSecret, p('clientSecret'), false);
  assertHttpUrl(options.tokenUrl, p('tokenUrl'), true);
  const method = options.tokenEndpointAuthMethod ?? (options.clientSecret ? 'client_secret_basic' : 'none');
  if (method !== 'none' && !options.clientSecret) throw configError(p('clientSecret'), `is required with tokenEndpointAuthMethod "${method}"`);
  const timeoutMs = options.httpTimeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) throw configError(p('httpTimeoutMs'), 'must be a positive number');
  const scope = normalizeScope(options.scope, p('scope'));
  const params: Record<string, string> = { ...assertRecord(options.tokenParams, p('tokenParams')) };
  if (scope.length > 0) params.scope = scope.join(' ');
  const tokenClient: TokenClientConfig = {
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    authMethod: method,
    headers: assertRecord(options.tokenRequestHeaders, p('tokenRequestHeaders')),
    timeoutMs,
  };
  return {
    target: resolveApiTarget(options, factory),
    tokenClient,
    params,
    leewayMs: assertLeeway(options.refreshLeewaySeconds, p('refreshLeewaySeconds')) * 1000,
    retryOn401: options.retryOn401 ?? true,
    fetch: options.fetch,
    tokenUrl: options.tokenUrl,
  };
}
