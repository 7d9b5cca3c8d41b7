import { inspect } from 'node:util';
import type { TokenSet } from '../protocol/token-set.js';
import { BearerMethods, prepareRequest } from './bearer.js';
import type { ApiRoute } from './api-routes.js';
import type { Credentials } from './dpop-transport.js';
import { sendWithRenewal, type RenewingSender } from './renew-and-retry.js';
import type { ApiRequestInit } from './transport.js';

/** Where an API client gets its credentials: the login's client (provider-client.ts). */
export interface ApiCredentialSource {
  /** The API's credentials: its own token (obtained or refreshed first when due), or the login's. */
  credentials(route: ApiRoute): Promise<Credentials>;
  /** New credentials after the API refused `stale` (401 `invalid_token`). */
  renew(route: ApiRoute, stale: Credentials): Promise<Credentials>;
}

/**
 * `req.oauth.api(name)`: `fetch`/`get`/`post`/… for one configured API. Relative URLs join the
 * API's `url`; only its origin may receive its token (`OAUTH_ORIGIN_NOT_ALLOWED` otherwise, with
 * nothing sent). The same renew-and-retry as every client. Holds no token itself.
 */
export class ApiClient extends BearerMethods {
  readonly #route: ApiRoute;
  readonly #source: ApiCredentialSource;
  readonly #sender: RenewingSender;

  constructor(route: ApiRoute, source: ApiCredentialSource, sender: Omit<RenewingSender, 'target' | 'renew'>) {
    super();
    this.#route = route;
    this.#source = source;
    this.#sender = { ...sender, target: route.api.target, renew: (stale) => source.renew(route, stale) };
  }

  /** The API's name (`apis.<name>`). */
  get name(): string {
    return this.#route.api.name;
  }

  /** The API's base URL. */
  get url(): string {
    return this.#route.api.url;
  }

  async fetch(input: string | URL, init: ApiRequestInit = {}): Promise<Response> {
    const req = prepareRequest(this.#route.api.target, input, init);
    return sendWithRenewal(this.#sender, req, await this.#source.credentials(this.#route));
  }

  /** The API's current token (obtained or refreshed first when due), for SDKs that want it raw. */
  async getToken(): Promise<Readonly<TokenSet>> {
    const { tokens } = await this.#source.credentials(this.#route);
    return Object.freeze({ ...(tokens as TokenSet) });
  }

  toJSON(): Record<string, unknown> {
    return { api: this.name, url: this.url };
  }

  [inspect.custom](): string {
    return `ApiClient ${JSON.stringify(this.toJSON())}`;
  }
}
