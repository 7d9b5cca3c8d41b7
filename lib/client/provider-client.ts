import type { ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import type { ResolvedProvider } from '../config/options.js';
import type { OAuthEventEmitter } from '../events.js';
import { debugFor } from '../debug.js';
import { OAUTH_CODES, ReauthenticationRequiredError } from '../errors.js';
import type { ApiRequestInit } from './transport.js';
import { BearerMethods, isInvalidTokenChallenge, isRetryable, prepareRequest, type ApiTarget, type PreparedRequest } from './bearer.js';
import { sendAuthorized } from './dpop-transport.js';
import { readLoginOptions, type LoginOptions, type LoginStarter } from './login-request.js';
import type { RecordHandle, Refresher } from './refresh.js';
import type { ProviderLink } from './provider-link.js';
import type { LoginStore } from '../session/login-store.js';
import type { SessionView } from '../session/session-view.js';
import { cookieExpiry, cookieUntil, readRecord, recordCookie, recordKey, type CookieLike, type TokenRecord } from '../session/token-record.js';
import { isExpiring, type TokenSet } from '../protocol/token-set.js';
import { readUserInfoResponse, userInfoTransportError } from '../protocol/userinfo.js';
import { prepareUserInfoRequest } from './userinfo.js';

const log = debugFor('client');

/** What every client of one middleware instance shares (built once by the factory). */
export interface ClientShared {
  readonly refresher: Refresher;
  readonly logins: LoginStore;
  readonly events: OAuthEventEmitter;
  readonly onRefreshFailure: 'relogin' | 'error';
  /** `req.oauth.login`: the http layer's login start, injected (client/ never imports http/). */
  readonly startLogin: LoginStarter;
}

/**
 * End one provider's login in a session: tombstone and delete its token record, clear the
 * marker, revoke the tokens (refresh then access, RFC 7009), report it. Returns the ended tokens
 * (the ID token is the `id_token_hint` of RP-initiated logout).
 */
export async function logoutProvider(shared: ClientShared, link: ProviderLink, session: SessionView): Promise<TokenSet | undefined> {
  if (!session.marker(link.name)) return undefined;
  const sessionId = session.sessionId;
  const tokens = await shared.logins.endLogin(session, link.name);
  await link.revoke(tokens);
  shared.events.emit('logout', { provider: link.name, reason: 'user' });
  await shared.refresher.notify({ sessionId, link }, undefined, tokens, 'logout');
  return tokens;
}

/** The user as known from the login: `sub` and verified ID-token claims. */
export interface OAuthUser {
  sub?: string;
  [claim: string]: unknown;
}

/**
 * An HTTP client bound to one provider and one session: sends the user's access token, refreshes
 * it before it expires (single flight), retries once on 401 `invalid_token`.
 * Token values are held in private fields only; `toJSON()` and `inspect` are redacted.
 */
export class ProviderClient extends BearerMethods {
  readonly #shared: ClientShared;
  readonly #link: ProviderLink;
  readonly #provider: ResolvedProvider;
  readonly #session: SessionView;
  #record: TokenRecord | undefined;

  constructor(shared: ClientShared, link: ProviderLink, session: SessionView) {
    super();
    this.#shared = shared;
    this.#link = link;
    this.#provider = link.provider;
    this.#session = session;
  }

  /** Internal (the error handler): what to do when a login ended, per the `onRefreshFailure` option. */
  static refreshFailurePolicy(client: ProviderClient): 'relogin' | 'error' {
    return client.#shared.onRefreshFailure;
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
      link: this.#link,
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
    const record = await readRecord(handle.store, handle.key, this.#link.timeoutMs);
    if (!record) {
      log('token record of %s is gone; clearing the login marker', this.#provider.name);
      this.#session.clearMarker(this.#provider.name);
      this.#shared.events.emit('logout', { provider: this.#provider.name, reason: 'record-missing' });
      throw new ReauthenticationRequiredError('The login has ended; log in again.', OAUTH_CODES.NOT_AUTHENTICATED);
    }
    this.#record = record;
    return record;
  }

  async #fresh(force = false): Promise<TokenRecord> {
    const record = await this.#loadRecord();
    if (!force && !isExpiring(record.tokens, Date.now(), this.#provider.refreshLeewayMs)) return record;
    try {
      this.#record = await this.#shared.refresher.ensureFresh(this.#handle(), record, force);
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

  /** fetch() with the user's access token. Relative URLs are joined to `apiBaseUrl`. */
  async fetch(input: string | URL, init: ApiRequestInit = {}): Promise<Response> {
    return this.#send(this.#provider, prepareRequest(this.#provider, input, init));
  }

  /**
   * The provider's UserInfo claims (OIDC Core §5.3), fetched with the user's access token like any
   * `fetch` (refreshed first when due, once more on 401 `invalid_token`). When the login knows the
   * user's `sub`, the response must name the same one. Throws `OAuthError` `OAUTH_USERINFO_ERROR`.
   */
  async userinfo(): Promise<OAuthUser> {
    await this.#loadRecord();
    const { target, request } = await prepareUserInfoRequest(this.#link);
    const res = await this.#send(target, request).catch((err: unknown) => {
      throw userInfoTransportError(err);
    });
    return readUserInfoResponse(res, this.#session.marker(this.#provider.name)?.sub);
  }

  async #send(target: ApiTarget, req: PreparedRequest): Promise<Response> {
    const provider = this.#provider;
    const { outbound } = this.#link;
    const record = await this.#fresh();
    const res = await sendAuthorized(target, req, record, outbound);
    if (res.status !== 401 || !provider.retryOn401 || !isInvalidTokenChallenge(res)) return res;

    log('401 invalid_token from %s; refreshing once', req.url.origin);
    const refreshed = await this.#shared.refresher.ensureFresh(this.#handle(), record, true).catch((err: unknown) => {
      if (err instanceof ReauthenticationRequiredError) this.#session.clearMarker(provider.name);
      throw err;
    });
    this.#record = refreshed;
    if (!isRetryable(req)) return res;
    await res.body?.cancel();
    return sendAuthorized(target, req, refreshed, outbound);
  }

  /**
   * Start a login with this provider from code: saves a login transaction in the session of
   * `res`'s request and answers 302 to the authorization endpoint, as `GET /login` does.
   * `authorizationParams` win over the configured ones; `scope` adds to the configured scopes.
   * Works without the `/login` route (`routes.login: false`). Bad options throw `TypeError`.
   */
  async login(res: ServerResponse, options?: LoginOptions): Promise<void> {
    await this.#shared.startLogin(res, this.#link, readLoginOptions(options));
  }

  /** Revoke (when the provider has a revocation endpoint) and forget this login's tokens. */
  async logout(): Promise<void> {
    await logoutProvider(this.#shared, this.#link, this.#session);
    this.#record = undefined;
  }

  toJSON(): Record<string, unknown> {
    return { provider: this.#provider.name, authenticated: this.isAuthenticated() };
  }

  [inspect.custom](): string {
    return `ProviderClient ${JSON.stringify(this.toJSON())}`;
  }
}
