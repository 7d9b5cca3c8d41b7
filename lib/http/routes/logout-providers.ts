import type { ProviderLink } from '../../client/provider-link.js';
import { isIssuerTemplate, matchesIssuer } from '../../config/issuer-template.js';

/**
 * The providers a provider-sent logout names, by issuer: what back-channel logout (the logout
 * token's `iss`) and front-channel logout (the `iss` query parameter) both look up. Providers
 * without an `issuer` never match.
 */
export class LogoutProviders {
  readonly #byIssuer = new Map<string, ProviderLink[]>();
  /** Providers whose issuer is a template (multi-tenant): matched by pattern. */
  readonly #templates: ProviderLink[] = [];
  /** Every provider by name (an ended session's other logins are revoked through their own link). */
  readonly byName: ReadonlyMap<string, ProviderLink>;

  constructor(links: Iterable<ProviderLink>) {
    const all = [...links];
    for (const link of all) {
      const issuer = link.provider.issuer;
      if (isIssuerTemplate(issuer)) this.#templates.push(link);
      else if (issuer) this.#byIssuer.set(issuer, [...(this.#byIssuer.get(issuer) ?? []), link]);
    }
    this.byName = new Map(all.map((link) => [link.name, link] as const));
  }

  /** The providers configured with exactly this issuer (several clients may share one), or with a template it is a tenant of. */
  ofIssuer(issuer: string): readonly ProviderLink[] {
    const exact = this.#byIssuer.get(issuer) ?? [];
    const tenants = this.#templates.filter((link) => matchesIssuer(link.provider.issuer!, issuer));
    return tenants.length === 0 ? exact : [...exact, ...tenants];
  }
}
