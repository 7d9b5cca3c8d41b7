import { debugFor } from '../debug.js';
import { revokeToken } from '../protocol/revocation.js';
import type { EndedTokens } from '../session/token-records.js';
import type { ProviderLink } from './provider-link.js';
import type { TokenEvents } from './token-events.js';
import { ATTR, errorType } from '../telemetry/attributes.js';

const log = debugFor('revoke');

/**
 * The end step's revocation (RFC 7009): the refresh token, then the access token and the login's
 * per-API tokens, when the
 * provider has a revocation endpoint, each with a DPoP proof of the login's key when it has one
 * (RFC 9449 §5). Failures are logged and announced on the `error` event; this never throws (the
 * login has ended whatever the provider says).
 */
export async function revokeEnded(link: ProviderLink, ended: EndedTokens | undefined, announce: TokenEvents): Promise<void> {
  if (!ended) return;
  const { tokens, dpop, apiTokens = [] } = ended;
  const url = (await link.endpoints().catch(() => undefined))?.revocationUrl;
  if (!url) return;
  const endpoint = { fetch: link.fetch, url, client: link.tokenClient, timeoutMs: link.timeoutMs, dpop: dpop && { key: dpop, proofs: link.dpop } };
  const pairs: Array<[string | undefined, 'refresh_token' | 'access_token']> = [
    [tokens.refreshToken, 'refresh_token'],
    [tokens.accessToken, 'access_token'],
    ...apiTokens.map((t): [string, 'access_token'] => [t, 'access_token']),
  ];
  const count = pairs.filter(([token]) => token).length;
  await link.telemetry.span('oauth2.revoke', { [ATTR.provider]: link.name, [ATTR.revokedTokens]: count }, async (span) => {
    for (const [token, hint] of pairs) {
      if (!token) continue;
      await revokeToken(endpoint, token, hint).catch((err: unknown) => {
        log('revoking the %s of %s failed (%s)', hint, link.name, (err as Error).message);
        // The login ends whatever the provider says: the span is not failed, it says what went wrong.
        span.set('error.type', errorType(err));
        announce.revocationFailed(link.name, (err as { code?: string }).code ?? 'revocation');
      });
    }
  });
}
