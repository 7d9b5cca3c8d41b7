import type { ResolvedApi } from '../config/resolved.js';
import { apiTokenKey } from './api-grants.js';

/** One configured API as the clients use it: its config and the key of its token in the login's record. */
export interface ApiRoute {
  readonly api: ResolvedApi;
  /** Undefined when the API takes the login's own token (no `resource`, no `exchange`). */
  readonly tokenKey: string | undefined;
}

/**
 * The configured APIs (`apis`), by name and by URL: an absolute URL belongs to the API whose `url`
 * is its longest prefix, cut at a path boundary (`https://x/orders` covers `/orders/1` and
 * `/orders?q`, not `/orders-archive`). Built once per middleware instance.
 */
export class ApiRoutes {
  readonly #byName = new Map<string, ApiRoute>();
  /** Longest `url` first. */
  readonly #ordered: ApiRoute[];

  constructor(apis: Iterable<ResolvedApi>) {
    for (const api of apis) this.#byName.set(api.name, Object.freeze({ api, tokenKey: api.ownToken ? apiTokenKey(api) : undefined }));
    this.#ordered = [...this.#byName.values()].sort((a, b) => b.api.url.length - a.api.url.length);
  }

  get size(): number {
    return this.#byName.size;
  }

  get(name: string): ApiRoute | undefined {
    return this.#byName.get(name);
  }

  /** The API an absolute URL (`href`, normalized by `URL`) belongs to, or undefined. */
  match(href: string): ApiRoute | undefined {
    for (const route of this.#ordered) {
      const base = route.api.url;
      if (!href.startsWith(base)) continue;
      if (base.endsWith('/') || href.length === base.length) return route;
      const next = href[base.length];
      if (next === '/' || next === '?' || next === '#') return route;
    }
    return undefined;
  }

  /** The APIs of one provider. */
  forProvider(provider: string): ApiRoutes {
    return new ApiRoutes([...this.#byName.values()].filter((r) => r.api.provider === provider).map((r) => r.api));
  }
}
