import type { FetchLike, ResolvedConfig, ResolvedProvider } from '../config/options.js';
import { debugFor } from '../debug.js';
import { OAuthEventEmitter } from '../events.js';
import { resolveEndpoints, type ProviderEndpoints } from '../protocol/discovery.js';
import { revokeToken } from '../protocol/token-endpoint.js';
import { Refresher, tokenClientConfig } from '../client/refresh.js';
import type { SessionView } from '../session/session-view.js';
import { deleteRecord, readRecord, recordKey } from '../session/token-record.js';
import type { TokenSet } from '../protocol/token-set.js';

const log = debugFor('logout');

/** State shared by every request of one `oauthMiddleware()` instance. */
export class Runtime {
  readonly events = new OAuthEventEmitter();
  readonly refresher: Refresher;
  readonly #fetch: FetchLike;

  constructor(readonly config: ResolvedConfig) {
    this.refresher = new Refresher(config, this.events);
    this.#fetch = config.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  endpoints(provider: ResolvedProvider): Promise<ProviderEndpoints> {
    return resolveEndpoints(provider, this.#fetch, this.config.httpTimeoutMs);
  }

  /**
   * RFC 7009: revoke the refresh token, then the access token, when the provider has a revocation
   * endpoint. Failures are logged and reported on the `error` event; they never throw.
   */
  async revokeTokens(provider: ResolvedProvider, revocationUrl: string | undefined, tokens: TokenSet): Promise<void> {
    if (!revocationUrl) return;
    const client = tokenClientConfig(provider, this.config.httpTimeoutMs);
    const pairs: Array<[string | undefined, 'refresh_token' | 'access_token']> = [[tokens.refreshToken, 'refresh_token'], [tokens.accessToken, 'access_token']];
    for (const [token, hint] of pairs) {
      if (!token) continue;
      await revokeToken(client, revocationUrl, token, hint).catch((err: unknown) => {
        log('revoking the %s of %s failed (%s)', hint, provider.name, (err as Error).message);
        this.events.emit('error', { provider: provider.name, code: (err as { code?: string }).code ?? 'revocation', status: 502 });
      });
    }
  }

  /**
   * Revoke refresh then access token (RFC 7009) when the provider has a revocation endpoint, then
   * delete the token record and the login marker. Revocation failures are logged; logout completes.
   * Returns the ID token (for RP-initiated logout's id_token_hint), if any.
   */
  async logoutProvider(session: SessionView, provider: ResolvedProvider): Promise<string | undefined> {
    if (!session.marker(provider.name)) return undefined;
    const key = recordKey(session.sessionId, provider.name);
    const record = await readRecord(session.store, key, this.config.httpTimeoutMs);
    if (record) {
      const endpoints = await this.endpoints(provider).catch(() => undefined);
      await this.revokeTokens(provider, endpoints?.revocationUrl, record.tokens);
      await deleteRecord(session.store, key, this.config.httpTimeoutMs);
    }
    session.clearMarker(provider.name);
    this.events.emit('logout', { provider: provider.name, reason: 'user' });
    await this.refresher.notify({ sessionId: session.sessionId, provider }, undefined, record?.tokens, 'logout');
    return record?.tokens.idToken;
  }
}
