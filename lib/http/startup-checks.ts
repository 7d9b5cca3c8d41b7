import type { OAuthMiddlewareOptions, ProviderOptions } from '../config/options.js';
import type { ResolvedConfig } from '../config/resolved.js';
import { WARNING_CODES, type Diagnostics } from '../diagnostics.js';

/**
 * Warnings at startup for configs that are valid but most likely not what was meant (each is
 * logged once, see diagnostics.ts): a provider with no `clientSecret` and no explicit
 * `tokenEndpointAuthMethod` is a public client, which is also what `clientSecret:
 * process.env.CLIENT_SECRET` gives when the variable is unset.
 */
export function warnAtStartup(options: OAuthMiddlewareOptions, config: ResolvedConfig, diagnostics: Diagnostics): void {
  const inputs = options.providers ?? { [[...config.providers.keys()][0]!]: options as ProviderOptions };
  for (const [name, input] of Object.entries(inputs as Record<string, ProviderOptions>)) {
    const provider = config.providers.get(name);
    if (!provider || input.tokenEndpointAuthMethod !== undefined || input.clientSecret !== undefined) continue;
    const at = config.single ? '' : `providers.${name}.`;
    diagnostics.warnOnce(
      `${WARNING_CODES.PUBLIC_CLIENT}|${name}`,
      WARNING_CODES.PUBLIC_CLIENT,
      name,
      `\`${at}clientSecret\` is not set, so this provider is used as a public client (no client authentication, PKCE only); a confidential client then fails every login with "invalid_client". Fix: set \`${at}clientSecret\` (is its environment variable unset?), or set \`${at}tokenEndpointAuthMethod: 'none'\` if the client is public.`,
    );
  }
}
