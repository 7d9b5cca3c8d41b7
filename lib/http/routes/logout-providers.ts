import type { ProviderLink } from '../../client/provider-link.js';

/**
 * The providers a provider-sent logout names, by issuer: what back-channel logout (the logout
 * token's `iss`) and front-channel logout (the `iss` query parameter) both look up. Providers
 * without an `issuer` never match.
 */
export class LogoutProviders {
  readonly #byIssuer = new Map<string, ProviderLink[]>();
  /** Every provider by name (an ended session's other logins are revoked through their own link). */
  readonly byName: ReadonlyMap<string, ProviderLink>;

  constructor(links: Iterable<ProviderLink>) {
    const all = [...links];
    for (const link of all) {
      const issuer = link.provider.issuer;
      if (issuer) this.#byIssuer.set(issuer, [...(this.#byIssuer.get(issuer) ?? []), link]);
    }
    this.byName = new Map(all.map((link) => [link.name, link] as const));
  }

  /** The providers configured with exactly this issuer (several clients may share one). */
  ofIssuer(issuer: string): readonly ProviderLink[] {
    return this.#byIssuer.get(issuer) ?? [];
  }
}
