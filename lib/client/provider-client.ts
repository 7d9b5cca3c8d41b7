import type { IncomingMessage, ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import type { ResolvedProvider } from '../config/resolved.js';
import { OAUTH_CODES, ReauthenticationRequiredError } from '../errors.js';
import type { ApiRequestInit } from './transport.js';
import { BearerMethods, prepareRequest, type ApiTarget, type PreparedRequest } from './bearer.js';
import type { Credentials } from './dpop-transport.js';
import { readLoginOptions, type LoginOptions, type LoginStarter } from './login-request.js';
import type { LoginRef } from './refresh.js';
import type { ProviderLink } from './provider-link.js';
import { sendWithRenewal, type RenewingSender } from './renew-and-retry.js';
import type { TokenLifecycle } from './token-lifecycle.js';
import type { LoginSession } from '../session/login-session.js';
import type { LoginMarker } from '../session/session-format.js';
import type { TokenRecord } from '../session/token-record.js';
import type { TokenSet } from '../protocol/token-set.js';
import { ApiClient } from './api-client.js';
import { readExchangeRequest, type ExchangeRequest } from './api-grants.js';
import type { ApiRoutes } from './api-routes.js';
import { LoginApiTokens } from './login-api-tokens.js';
import { resolveRequestHref } from './bearer.js';
import { readUserInfoResponse, userInfoTransportError } from '../protocol/userinfo.js';
import { prepareUserInfoRequest } from './userinfo.js';
import { ATTR } from '../telemetry/attributes.js';

/** What every client of one middleware instance calls (built once by the factory). */
export interface ClientDeps {
  /** The token lifecycle: refresh, end, lost logins. */
  readonly lifecycle: TokenLifecycle;
  /** Each provider's login starter (`req.oauth.login`, requireAuth's step-up), made by the http layer (client/ never imports http/). */
  readonly loginStarters: ReadonlyMap<string, LoginStarter>;
  readonly onRefreshFailure: 'relogin' | 'error';
  /** Every configured API (`apis`), of every provider. */
  readonly apis: ApiRoutes;
}

/** @internal requireAuth reads a client's login starter (step-up, incremental logins) through this key. */
export const LOGIN_STARTER = Symbol('loginStarter');

/** @internal requireAuth's step-up rules read the client's decoded login marker through this key. */
export const LOGIN_MARKER = Symbol('loginMarker');

/**
 * @internal The error handler reads the `onRefreshFailure` option of `req.oauth`'s middleware
 * through this key (not in the published types: `stripInternal`).
 */
export const REFRESH_FAILURE_POLICY = Symbol('onRefreshFailure');

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
  readonly #deps: ClientDeps;
  readonly #link: ProviderLink;
  readonly #provider: ResolvedProvider;
  readonly #session: LoginSession;
  /** Made on first use: most requests only read `isAuthenticated()` or `user` (nothing per request). */
  #loginRef: LoginRef | undefined;
  #apiSender: RenewingSender | undefined;
  #record: TokenRecord | undefined;
  /** `api(name)` clients of this request, made on first use. */
  #apiClients: Map<string, ApiClient> | undefined;
  #apiTokenSource: LoginApiTokens | undefined;

  constructor(deps: ClientDeps, link: ProviderLink, session: LoginSession) {
    super();
    this.#deps = deps;
    this.#link = link;
    this.#provider = link.provider;
    this.#session = session;
  }

  get #login(): LoginRef {
    return (this.#loginRef ??= { session: this.#session, link: this.#link });
  }

  /** @internal This provider's login starter (requireAuth). */
  [LOGIN_STARTER](): LoginStarter {
    return this.#deps.loginStarters.get(this.#provider.name)!;
  }

  /** @internal This provider's login marker in the session, decoded (requireAuth's step-up rules). */
  [LOGIN_MARKER](): LoginMarker | undefined {
    return this.#session.marker(this.#provider.name);
  }

  /** @internal What to do when a login ended, per the `onRefreshFailure` option. */
  get [REFRESH_FAILURE_POLICY](): 'relogin' | 'error' {
    return this.#deps.onRefreshFailure;
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
      return this.#session.hasLogin(this.#provider.name);
    } catch {
      return false;
    }
  }

  /** `sub` and verified ID-token claims, when the login produced them. */
  get user(): OAuthUser | undefined {
    const marker = this.#session.identity(this.#provider.name);
    if (!marker) return undefined;
    return { ...marker.claims, ...(marker.sub === undefined ? {} : { sub: marker.sub }) };
  }

  async #loadRecord(): Promise<TokenRecord> {
    if (!this.isAuthenticated()) {
      // A store outage reads as 503, not as "logged out".
      this.#session.assertAvailable();
      throw new ReauthenticationRequiredError('Not logged in.', OAUTH_CODES.NOT_AUTHENTICATED);
    }
    if (this.#record) return this.#record;
    const record = await this.#session.readTokens(this.#provider.name);
    if (!record) {
      await this.#deps.lifecycle.loginLost(this.#login);
      throw new ReauthenticationRequiredError('The login has ended; log in again.', OAUTH_CODES.NOT_AUTHENTICATED);
    }
    this.#record = record;
    return record;
  }

  /** The record, refreshed first when it expires within the leeway. */
  async #fresh(): Promise<TokenRecord> {
    const current = await this.#loadRecord();
    if (!this.#deps.lifecycle.isDue(this.#login, current)) return current;
    return this.#settle(this.#deps.lifecycle.ensureFresh(this.#login, current));
  }

  /** A refresh now, whatever the expiry (the API refused `stale`, or `refresh()`). */
  async #renew(stale?: TokenRecord): Promise<TokenRecord> {
    const current = stale ?? (await this.#loadRecord());
    return this.#settle(this.#deps.lifecycle.renew(this.#login, current));
  }

  /** Keep the refreshed record for this request; a login that ended forgets its marker. */
  async #settle(refreshing: Promise<TokenRecord>): Promise<TokenRecord> {
    try {
      this.#record = await refreshing;
    } catch (err) {
      if (err instanceof ReauthenticationRequiredError) {
        this.#record = undefined;
        this.#session.clearMarker(this.#provider.name);
      }
      throw err;
    }
    return this.#record;
  }

  /**
   * The current token set, refreshed first when due; `undefined` when not logged in. With
   * `{ api }`: that configured API's token (its own, obtained first when needed, or the login's).
   */
  async getToken(options?: { api?: string }): Promise<Readonly<TokenSet> | undefined> {
    if (!this.isAuthenticated()) return undefined;
    if (options?.api !== undefined) return this.api(options.api).getToken();
    return Object.freeze({ ...(await this.#fresh()).tokens });
  }

  /**
   * The client of a configured API (`apis.<name>`): relative URLs join its `url`, and it sends the
   * API's own token (RFC 8707 / RFC 8693) or, for an API with neither `resource` nor `exchange`,
   * the login's. Throws `RangeError` for a name that is not configured for this provider.
   */
  api(name: string): ApiClient {
    let client = this.#apiClients?.get(name);
    if (client) return client;
    const route = this.#link.apis.get(name);
    if (!route) {
      const other = this.#deps.apis.get(name);
      throw new RangeError(other ? `API "${name}" takes its token from provider "${other.api.provider}", not "${this.#provider.name}".` : `No API named "${name}" is configured (apis).`);
    }
    // One challenge handler per API (made once per middleware instance): its metadata must name the API's resource.
    const { api } = route;
    const challenges = this.#link.challenges({ name: api.name, resource: api.resource ?? api.exchange?.resource });
    client = new ApiClient(route, this.#apiTokens(), { outbound: this.#link.outbound, retryOn401: this.#provider.retryOn401, challenges });
    (this.#apiClients ??= new Map()).set(name, client);
    return client;
  }

  #apiTokens(): LoginApiTokens {
    return (this.#apiTokenSource ??= new LoginApiTokens(
      {
        login: this.#login,
        load: () => this.#loadRecord(),
        fresh: () => this.#fresh(),
        renew: (stale) => this.#renew(stale),
        settle: (writing) => this.#settle(writing),
        current: () => this.#record,
      },
      this.#deps.lifecycle,
      this.#provider,
    ));
  }

  /**
   * RFC 8693 token exchange: the login's access token (or `subjectToken`) exchanged at the token
   * endpoint for a token for `audience`/`resource` (+ `scope`, `requestedTokenType`), with the
   * client's usual authentication. Cached in the login's record per parameters until it is due;
   * concurrent calls share one request.
   */
  async exchange(request: ExchangeRequest = {}): Promise<Readonly<TokenSet>> {
    return Object.freeze({ ...(await this.#apiTokens().exchange(readExchangeRequest(request))) });
  }

  /** Force a refresh now (shares an in-flight one). */
  async refresh(): Promise<Readonly<TokenSet>> {
    return Object.freeze({ ...(await this.#renew()).tokens });
  }

  /**
   * fetch() with the user's access token. Relative URLs are joined to `apiBaseUrl`. A URL under a
   * configured API's `url` (the longest such prefix) goes through `api(name)`: that API's token.
   */
  async fetch(input: string | URL, init: ApiRequestInit = {}): Promise<Response> {
    if (this.#deps.apis.size > 0) {
      const href = resolveRequestHref(this.#provider, input);
      const route = this.#deps.apis.match(href);
      if (route) return this.api(route.api.name).fetch(href, init);
    }
    return this.#send(this.#provider, prepareRequest(this.#provider, input, init));
  }

  /**
   * The provider's UserInfo claims (OIDC Core §5.3), fetched with the user's access token like any
   * `fetch` (refreshed first when due, once more on 401 `invalid_token`). When the login knows the
   * user's `sub`, the response must name the same one. Throws `OAuthError` `OAUTH_USERINFO_ERROR`.
   */
  userinfo(): Promise<OAuthUser> {
    return this.#link.telemetry.span('oauth2.userinfo', { [ATTR.provider]: this.#provider.name }, async () => {
      await this.#loadRecord();
      const { target, request } = await prepareUserInfoRequest(this.#link);
      const res = await this.#send(target, request).catch((err: unknown) => {
        throw userInfoTransportError(err);
      });
      return readUserInfoResponse(res, this.#session.identity(this.#provider.name)?.sub);
    });
  }

  async #send(target: ApiTarget, req: PreparedRequest): Promise<Response> {
    const sender = target === this.#provider ? (this.#apiSender ??= this.#senderFor(target)) : this.#senderFor(target);
    return sendWithRenewal(sender, req, await this.#fresh());
  }

  #senderFor(target: ApiTarget): RenewingSender {
    const sender: RenewingSender = { target, outbound: this.#link.outbound, retryOn401: this.#provider.retryOn401, renew: (stale: Credentials) => this.#renew(stale as TokenRecord) };
    // The API calls of `fetch`/`get`/…: their challenges become ApiChallengeError (UserInfo keeps its own errors).
    if (target === this.#provider) sender.challenges = this.#link.challenges();
    return sender;
  }

  /**
   * Start a login with this provider from code: saves a login transaction in the session of
   * `res`'s request and answers 302 to the authorization endpoint, as `GET /login` does.
   * `authorizationParams` win over the configured ones; `scope` adds to the configured scopes.
   * Works without the `/login` route (`routes.login: false`). Bad options throw `TypeError`.
   */
  async login(res: ServerResponse, options?: LoginOptions): Promise<void> {
    const request = readLoginOptions(options);
    const req = (res as ServerResponse & { req?: IncomingMessage }).req;
    if (!req) throw new TypeError('req.oauth.login: `res` must be the response of the current request');
    await this[LOGIN_STARTER]().redirect(req, res, { request });
  }

  /** Revoke (when the provider has a revocation endpoint) and forget this login's tokens. */
  async logout(): Promise<void> {
    await this.#deps.lifecycle.endLogin(this.#login);
    this.#record = undefined;
  }

  toJSON(): Record<string, unknown> {
    return { provider: this.#provider.name, authenticated: this.isAuthenticated() };
  }

  [inspect.custom](): string {
    return `ProviderClient ${JSON.stringify(this.toJSON())}`;
  }
}
