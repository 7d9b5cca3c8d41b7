import type { ResolvedProvider } from '../config/resolved.js';
import { isExpiring, type TokenSet } from '../protocol/token-set.js';
import type { TokenRecord } from '../session/token-record.js';
import type { ApiCredentialSource } from './api-client.js';
import { exchangeOf, exchangeTokenKey, type ExchangeRequest } from './api-grants.js';
import type { ApiRoute } from './api-routes.js';
import type { Credentials } from './dpop-transport.js';
import type { LoginRef } from './refresh.js';
import type { TokenLifecycle } from './token-lifecycle.js';

/** How the login's client (provider-client.ts) lends its record to the per-API tokens of one request. */
export interface LoginRecordAccess {
  readonly login: LoginRef;
  /** The record as this request knows it (read once). */
  load(): Promise<TokenRecord>;
  /** The record, refreshed first when due. */
  fresh(): Promise<TokenRecord>;
  /** A refresh now: the API refused `stale`. */
  renew(stale: TokenRecord): Promise<TokenRecord>;
  /** Keep a record a grant wrote, for this request (a login that ended forgets its marker). */
  settle(writing: Promise<TokenRecord>): Promise<TokenRecord>;
  /** The record this request holds, if any. */
  current(): TokenRecord | undefined;
}

/** What a per-API token comes from: the refresh grant with `resource` (RFC 8707) or a token exchange (RFC 8693). */
type OwnTokenGrant = { kind: 'resource'; resource: string; scope: readonly string[] } | { kind: 'exchange'; request: ExchangeRequest };

/**
 * One request's per-API tokens of one login: read from the login's token record (the warm path:
 * no I/O beyond the record read once per request), else obtained through the lifecycle's grants
 * (one flight per login and token key, serialized with every grant spending the refresh token).
 */
export class LoginApiTokens implements ApiCredentialSource {
  constructor(
    private readonly access: LoginRecordAccess,
    private readonly lifecycle: TokenLifecycle,
    private readonly provider: ResolvedProvider,
  ) {}

  async credentials(route: ApiRoute): Promise<Credentials> {
    if (route.tokenKey === undefined) return this.access.fresh();
    const record = await this.access.load();
    const stored = record.apis?.[route.tokenKey];
    if (stored && !isExpiring(stored, Date.now(), this.provider.refreshLeewayMs)) return { tokens: stored, dpop: record.dpop };
    return { tokens: await this.#routeToken(route, undefined), dpop: record.dpop };
  }

  async renew(route: ApiRoute, stale: Credentials): Promise<Credentials> {
    if (route.tokenKey === undefined) return this.access.renew(stale as TokenRecord);
    const tokens = await this.#routeToken(route, stale.tokens.accessToken);
    return { tokens, dpop: this.access.current()?.dpop };
  }

  /** `req.oauth.exchange(request)`, the request already checked. */
  async exchange(request: ExchangeRequest): Promise<TokenSet> {
    await this.access.load();
    return this.#ownToken(exchangeTokenKey(this.provider.name, request), { kind: 'exchange', request }, undefined);
  }

  #routeToken(route: ApiRoute, stale: string | undefined): Promise<TokenSet> {
    const { api, tokenKey } = route;
    if (!api.exchange) return this.#ownToken(tokenKey!, { kind: 'resource', resource: api.resource as string, scope: api.scope }, stale);
    return this.#ownToken(tokenKey!, { kind: 'exchange', request: exchangeOf(api) }, stale);
  }

  async #ownToken(key: string, grant: OwnTokenGrant, stale: string | undefined): Promise<TokenSet> {
    const { login } = this.access;
    // The subject token is the login's access token: refreshed first when due.
    if (grant.kind === 'exchange' && grant.request.subjectToken === undefined) await this.access.fresh();
    const obtaining = grant.kind === 'resource' ? this.lifecycle.resourceToken(login, key, grant.resource, grant.scope, stale) : this.lifecycle.exchangedToken(login, key, grant.request, stale);
    let value: TokenSet | undefined;
    await this.access.settle(
      obtaining.then((o) => {
        value = o.value;
        return o.record;
      }),
    );
    return value!;
  }
}
