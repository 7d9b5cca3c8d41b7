import { inspect } from 'node:util';
import type { ResolvedProvider } from './config-types.js';
import { debugFor } from './debug.js';
import { OAUTH_CODES, OAuthError, ReauthenticationRequiredError } from './errors.js';
import { encodeBody, sendApiRequest, type ApiRequestInit } from './http/api-request.js';
import type { RecordHandle } from './refresh.js';
import type { Runtime } from './runtime.js';
import type { SessionView } from './session-view.js';
import { cookieExpiry, cookieUntil, readRecord, recordCookie, recordKey, type CookieLike, type TokenRecord } from './token-store.js';
import type { TokenSet } from './tokens.js';

const log = debugFor('client');
const RUNTIME = Symbol('express-oauth2-session.runtime');

/** Internal: the runtime behind a client (for the error handler). */
export function runtimeOf(client: ProviderClient): Runtime | undefined {
  return client[RUNTIME];
}
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** The user as known from the login: `sub` and verified ID-token claims. */
export interface OAuthUser {
  sub?: string;
  [claim: string]: unknown;
}

function isInvalidTokenChallenge(res: Response): boolean {
  const challenge = res.headers.get('www-authenticate');
  return challenge !== null && /\bbearer\b/i.test(challenge) && /\berror\s*=\s*"?invalid_token"?/i.test(challenge);
}

function isReplayable(body: RequestInit['body']): boolean {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array || body instanceof URLSearchParams || body instanceof ArrayBuffer;
}

/**
 * An HTTP client bound to one provider and one session: sends the user's access token, refreshes
 * it before it expires (single flight), retries once on 401 `invalid_token`.
 * Token values are held in private fields only; `toJSON()` and `inspect` are redacted.
 */
export class ProviderClient {
  readonly #runtime: Runtime;
  readonly #provider: ResolvedProvider;
  readonly #session: SessionView;
  #record: TokenRecord | undefined;

  constructor(runtime: Runtime, provider: ResolvedProvider, session: SessionView) {
    this.#runtime = runtime;
    this.#provider = provider;
    this.#session = session;
  }

  /** Internal. */
  get [RUNTIME](): Runtime {
    return this.#runtime;
  }

  /** The path of this provider's login route, or false when disabled. */
  get loginPath(): string | false {
    return this.#provider.loginPath;
  }

  /** The provider name (`'default'` with a single provider). */
  get providerName(): string {
    return this.#provider.name;
  }

  /** Synchronous: true when the session has a login marker for this provider (no store I/O). */
  isAuthenticated(): boolean {
    try {
      return this.#session.marker(this.#provider.name) !== undefined;
    } catch {
      return false;
    }
  }

  /** `sub` and verified ID-token claims, when the login produced them. */
  get user(): OAuthUser | undefined {
    const marker = this.#session.marker(this.#provider.name);
    if (!marker) return undefined;
    return { ...marker.claims, ...(marker.sub === undefined ? {} : { sub: marker.sub }) };
  }

  /** Rewrites keep the record's current expiry (the marker's `exp`), else session expiry + slack. */
  #recordCookie(): CookieLike {
    const { cookie } = this.#session;
    const exp = this.#session.marker(this.#provider.name)?.exp;
    return exp === undefined ? recordCookie(cookieExpiry(cookie), cookie.originalMaxAge) : cookieUntil(exp, cookie.originalMaxAge);
  }

  #handle(): RecordHandle {
    const session = this.#session;
    const provider = this.#provider;
    return {
      store: session.store,
      sessionId: session.sessionId,
      key: recordKey(session.sessionId, provider.name),
      cookie: this.#recordCookie(),
      provider,
      tokenUrl: async () => (await this.#runtime.endpoints(provider)).tokenUrl,
    };
  }

  async #loadRecord(): Promise<TokenRecord> {
    if (!this.isAuthenticated()) {
      // Touch the session so a store outage reads as 503, not as "logged out".
      void this.#session.store;
      throw new ReauthenticationRequiredError('Not logged in.', OAUTH_CODES.NOT_AUTHENTICATED);
    }
    if (this.#record) return this.#record;
    const handle = this.#handle();
    const record = await readRecord(handle.store, handle.key, this.#runtime.config.httpTimeoutMs);
    if (!record) {
      log('token record of %s is gone; clearing the login marker', this.#provider.name);
      this.#session.clearMarker(this.#provider.name);
      this.#runtime.events.emit('logout', { provider: this.#provider.name, reason: 'record-missing' });
      throw new ReauthenticationRequiredError('The login has ended; log in again.', OAUTH_CODES.NOT_AUTHENTICATED);
    }
    this.#record = record;
    return record;
  }

  async #fresh(force = false): Promise<TokenRecord> {
    const record = await this.#loadRecord();
    try {
      this.#record = await this.#runtime.refresher.ensureFresh(this.#handle(), record, force);
    } catch (err) {
      if (err instanceof ReauthenticationRequiredError) {
        this.#record = undefined;
        this.#session.clearMarker(this.#provider.name);
      }
      throw err;
    }
    return this.#record;
  }

  /** The current token set, refreshed first when due; `undefined` when not logged in. */
  async getToken(): Promise<Readonly<TokenSet> | undefined> {
    if (!this.isAuthenticated()) return undefined;
    return Object.freeze({ ...(await this.#fresh()).tokens });
  }

  /** Force a refresh now (shares an in-flight one). */
  async refresh(): Promise<Readonly<TokenSet>> {
    return Object.freeze({ ...(await this.#fresh(true)).tokens });
  }

  #resolveUrl(input: string | URL, query: ApiRequestInit['query']): URL {
    const provider = this.#provider;
    let url: URL;
    if (input instanceof URL || /^[a-z][a-z0-9+.-]*:/i.test(input)) {
      url = new URL(input);
    } else {
      if (!provider.apiBaseUrl) {
        throw new OAuthError(OAUTH_CODES.ORIGIN_NOT_ALLOWED, 'A relative URL needs `apiBaseUrl` in the provider config.', { status: 500 });
      }
      url = new URL(`${provider.apiBaseUrl.replace(/\/$/, '')}/${input.replace(/^\//, '')}`);
    }
    if (!provider.allowedOrigins.has(url.origin)) {
      throw new OAuthError(OAUTH_CODES.ORIGIN_NOT_ALLOWED, `Refusing to send the access token to ${url.origin}: not in allowedOrigins.`, { status: 500 });
    }
    for (const [k, v] of Object.entries(provider.extraQuery)) url.searchParams.set(k, v);
    if (query) for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  #send(url: URL, method: string, headers: Headers, body: RequestInit['body'], init: ApiRequestInit, tokens: TokenSet): Promise<Response> {
    const h = new Headers(headers);
    let target = url;
    if (this.#provider.tokenPlacement === 'query') {
      target = new URL(url);
      target.searchParams.set('access_token', tokens.accessToken);
    } else {
      h.set('authorization', `Bearer ${tokens.accessToken}`);
    }
    log('%s %s%s', method, url.origin, url.pathname);
    return sendApiRequest(target, method, h, body, init, this.#runtime.config.fetch);
  }

  /** fetch() with the user's access token. Relative URLs are joined to `apiBaseUrl`. */
  async fetch(input: string | URL, init: ApiRequestInit = {}): Promise<Response> {
    const url = this.#resolveUrl(input, init.query);
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = new Headers(init.headers as HeadersInit | undefined);
    for (const [k, v] of Object.entries(this.#provider.apiHeaders)) if (!headers.has(k)) headers.set(k, v);
    const body = encodeBody(init.body, headers);
    const record = await this.#fresh();
    const res = await this.#send(url, method, headers, body, init, record.tokens);
    if (res.status !== 401 || !this.#provider.retryOn401 || !isInvalidTokenChallenge(res)) return res;

    log('401 invalid_token from %s; refreshing once', url.origin);
    const refreshed = await this.#runtime.refresher.ensureFresh(this.#handle(), record, true).catch((err: unknown) => {
      if (err instanceof ReauthenticationRequiredError) this.#session.clearMarker(this.#provider.name);
      throw err;
    });
    this.#record = refreshed;
    if (!IDEMPOTENT.has(method) || !isReplayable(body)) return res;
    await res.body?.cancel();
    return this.#send(url, method, headers, body, init, refreshed.tokens);
  }

  get(url: string | URL, init?: Omit<ApiRequestInit, 'method'>): Promise<Response> {
    return this.fetch(url, { ...init, method: 'GET' });
  }

  post(url: string | URL, init?: Omit<ApiRequestInit, 'method'>): Promise<Response> {
    return this.fetch(url, { ...init, method: 'POST' });
  }

  put(url: string | URL, init?: Omit<ApiRequestInit, 'method'>): Promise<Response> {
    return this.fetch(url, { ...init, method: 'PUT' });
  }

  patch(url: string | URL, init?: Omit<ApiRequestInit, 'method'>): Promise<Response> {
    return this.fetch(url, { ...init, method: 'PATCH' });
  }

  delete(url: string | URL, init?: Omit<ApiRequestInit, 'method'>): Promise<Response> {
    return this.fetch(url, { ...init, method: 'DELETE' });
  }

  /** Revoke (when the provider has a revocation endpoint) and forget this login's tokens. */
  async logout(): Promise<void> {
    await this.#runtime.logoutProvider(this.#session, this.#provider);
    this.#record = undefined;
  }

  toJSON(): Record<string, unknown> {
    return { provider: this.#provider.name, authenticated: this.isAuthenticated() };
  }

  [inspect.custom](): string {
    return `ProviderClient ${JSON.stringify(this.toJSON())}`;
  }
}
