import { debugFor } from '../debug.js';
import type { DpopKey } from '../protocol/dpop.js';
import { revokeToken } from '../protocol/revocation.js';
import type { EndedTokens } from '../session/token-records.js';
import type { ProviderLink } from './provider-link.js';
import type { TokenEvents } from './token-events.js';
import { ATTR } from '../telemetry/attributes.js';

const log = debugFor('revoke');

type Revocation = [string | undefined, 'refresh_token' | 'access_token'];

/**
 * The end step's revocation (RFC 7009): the refresh token, then the access token and the login's
 * per-API tokens, when the
 * provider has a revocation endpoint, each with a DPoP proof of the login's key when it has one
 * (RFC 9449 §5). Failures are logged, announced on the `error` event and fail the `oauth2.revoke`
 * span; this never throws (the login has ended whatever the provider says).
 */
export async function revokeEnded(link: ProviderLink, ended: EndedTokens | undefined, announce: TokenEvents): Promise<void> {
  if (!ended) return;
  const { tokens, dpop, apiTokens = [] } = ended;
  await revokeEach(link, [[tokens.refreshToken, 'refresh_token'], [tokens.accessToken, 'access_token'], ...apiTokens.map((t): Revocation => [t, 'access_token'])], dpop, announce);
}

/**
 * Only the per-API tokens of an ended login: the provider rejected its refresh token (that one is
 * dead, the login's access token due or refused), but the API tokens may live on. As revokeEnded.
 */
export async function revokeApiTokens(link: ProviderLink, ended: EndedTokens, announce: TokenEvents): Promise<void> {
  if (!ended.apiTokens) return;
  await revokeEach(
    link,
    ended.apiTokens.map((t): Revocation => [t, 'access_token']),
    ended.dpop,
    announce,
  );
}

async function revokeEach(link: ProviderLink, pairs: Revocation[], dpop: DpopKey | undefined, announce: TokenEvents): Promise<void> {
  const url = (await link.endpoints().catch(() => undefined))?.revocationUrl;
  if (!url) return;
  const endpoint = { fetch: link.fetch, url, client: link.tokenClient, timeoutMs: link.timeoutMs, dpop: dpop && { key: dpop, proofs: link.dpop } };
  const count = pairs.filter(([token]) => token).length;
  // A failed revocation fails the span (status ERROR, `error.type` of the first failure: left
  // valid at the provider, the tokens are worth an alert) but not the end step: the login has
  // ended whatever the provider says, so the rejection stops at the span.
  let failure: unknown;
  await link.telemetry
    .span('oauth2.revoke', { [ATTR.provider]: link.name, [ATTR.revokedTokens]: count }, async () => {
      for (const [token, hint] of pairs) {
        if (!token) continue;
        await revokeToken(endpoint, token, hint).catch((err: unknown) => {
          log('revoking the %s of %s failed (%s)', hint, link.name, (err as Error).message);
          announce.revocationFailed(link.name, (err as { code?: string }).code ?? 'revocation');
          failure ??= err;
        });
      }
      if (failure !== undefined) throw failure;
    })
    .catch((err: unknown) => {
      if (err !== failure) throw err;
    });
}
