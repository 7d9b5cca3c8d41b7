import { ProviderClient, type ClientDeps } from './provider-client.js';
import type { ApiClient } from './api-client.js';
import type { ProviderLink } from './provider-link.js';
import type { LoginSession } from '../session/login-session.js';
import type { Register } from '../index.js';

/** Provider names declared through `Register` (see docs/several-providers.md). */
export type RegisteredProviderName = Register extends { providers: infer P extends string } ? P : never;

/**
 * `req.oauth`: the client of the first (or only) provider, plus `req.oauth.<name>` for each
 * provider name declared in `Register`.
 */
export type OAuthRequestContext = RequestContext & { readonly [K in RegisteredProviderName]: ProviderClient };

/**
 * The class behind `OAuthRequestContext`: the client of the first (or only) provider, plus one
 * property per named provider (`req.oauth.github`) when several are configured. Not exported from
 * the package: `OAuthRequestContext` is the one public name of `req.oauth`'s type.
 */
export class RequestContext extends ProviderClient {
  /** Clients of the other providers, made on first use (most requests never ask). */
  #clients: Map<string, ProviderClient> | undefined;
  readonly #deps: ClientDeps;
  readonly #links: ReadonlyMap<string, ProviderLink>;
  readonly #session: LoginSession;

  constructor(deps: ClientDeps, links: ReadonlyMap<string, ProviderLink>, first: ProviderLink, session: LoginSession) {
    super(deps, first, session);
    this.#deps = deps;
    this.#links = links;
    this.#session = session;
  }

  /** The client of the named provider. */
  provider(name: string): ProviderClient {
    if (name === this.providerName) return this;
    this.#clients ??= new Map();
    let client = this.#clients.get(name);
    if (!client) {
      const link = this.#links.get(name);
      if (!link) throw new RangeError(`No OAuth provider named "${name}" is configured (configured: ${[...this.#links.keys()].map((n) => `"${n}"`).join(', ')}).`);
      client = new ProviderClient(this.#deps, link, this.#session);
      this.#clients.set(name, client);
    }
    return client;
  }

  /** The client of a configured API, whichever provider its token comes from. */
  override api(name: string): ApiClient {
    const route = this.#deps.apis.get(name);
    if (route && route.api.provider !== this.providerName) return this.provider(route.api.provider).api(name);
    return super.api(name);
  }

  /** True when logged in with any configured provider. */
  isAuthenticatedWithAny(): boolean {
    for (const name of this.#links.keys()) if (this.provider(name).isAuthenticated()) return true;
    return false;
  }
}

export type ContextConstructor = new (deps: ClientDeps, links: ReadonlyMap<string, ProviderLink>, first: ProviderLink, session: LoginSession) => OAuthRequestContext;

/** A subclass with one getter per provider name, built once per middleware instance (nothing per request). */
export function contextClassFor(providerNames: Iterable<string>): ContextConstructor {
  class Context extends RequestContext {}
  for (const name of providerNames) {
    if (name in Context.prototype) continue;
    Object.defineProperty(Context.prototype, name, {
      get(this: RequestContext) {
        return this.provider(name);
      },
      enumerable: false,
    });
  }
  return Context as unknown as ContextConstructor;
}
