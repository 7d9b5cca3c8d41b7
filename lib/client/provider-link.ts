import type { FetchLike, ResolvedProvider } from '../config/options.js';
import { debugFor } from '../debug.js';
import type { OAuthEventEmitter } from '../events.js';
import { OAUTH_CODES, OAuthError } from '../errors.js';
import { ProviderMetadata, type ProviderEndpoints } from '../protocol/discovery.js';
import type { PushedAuthorizationTarget } from '../protocol/par.js';
import { DpopProofs } from '../protocol/dpop.js';
import { RemoteKeySets } from '../protocol/jwks.js';
import { revokeToken } from '../protocol/revocation.js';
import { TokenEndpointClient, type TokenClientConfig } from '../protocol/token-endpoint.js';
import type { EndedTokens } from '../session/token-records.js';
import type { ApiOutbound } from './dpop-transport.js';
import type { OutboundTransport } from './transport.js';

const log = debugFor('revoke');

/**
 * Everything the package needs to talk to one provider: its endpoints (configured or discovered),
 * its token-endpoint client settings and token revocation, all through the one outbound
 * transport. Built once per provider by the middleware factory (and by the backend grant
 * clients); held only in private fields, so nothing reachable from `req.oauth` exposes it.
 */
export class ProviderLink {
  readonly tokenClient: TokenClientConfig;
  /** The middleware instance's transport as a fetch function (discovery, JWKS, revocation, PAR). */
  readonly fetch: FetchLike;
  /** This provider's DPoP key cache and nonces (token endpoint, revocation, its APIs). */
  readonly dpop = new DpopProofs();
  /** This provider's signing keys (ID tokens, logout tokens). */
  readonly keys: RemoteKeySets;
  /** This provider's token endpoint (simple-oauth2 grant objects). */
  readonly tokenEndpoint: TokenEndpointClient;
  /** How API calls with this provider's tokens go out (built once: nothing per request). */
  readonly outbound: ApiOutbound;
  readonly #metadata: ProviderMetadata;

  constructor(
    readonly provider: ResolvedProvider,
    /** The middleware instance's outbound transport. */
    readonly transport: OutboundTransport,
    readonly timeoutMs: number,
    readonly events: OAuthEventEmitter,
    /** `idpLogout`: the raw ID token is kept for `id_token_hint`. */
    private readonly idpLogout = false,
  ) {
    this.tokenClient = {
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      authMethod: provider.tokenEndpointAuthMethod,
      assertionKey: provider.clientAssertion,
      // The issuer is known whenever the token URL is discovered (discovery needs it).
      assertionAudience: provider.issuer ?? provider.tokenUrl,
      headers: provider.tokenRequestHeaders,
      timeoutMs,
    };
    this.fetch = transport.fetch;
    this.outbound = { transport, proofs: this.dpop };
    this.keys = new RemoteKeySets({ fetch: this.fetch, timeoutMs });
    this.tokenEndpoint = new TokenEndpointClient({ config: this.tokenClient, proofs: this.dpop });
    this.#metadata = new ProviderMetadata({ provider, fetch: this.fetch, timeoutMs });
  }

  get name(): string {
    return this.provider.name;
  }

  endpoints(): Promise<ProviderEndpoints> {
    return this.#metadata.endpoints();
  }

  /** The UserInfo endpoint: configured, else discovered from `issuer` on first use; undefined when unknown. */
  userinfoUrl(): Promise<string | undefined> {
    return this.#metadata.userinfoUrl();
  }

  /**
   * RFC 9126: where to push this provider's authorization requests, or undefined when PAR is off
   * (on with `pushedAuthorizationRequests: true`, or when the AS metadata requires it).
   */
  pushedAuthorization(endpoints: ProviderEndpoints): PushedAuthorizationTarget | undefined {
    if (!this.provider.pushedAuthorizationRequests && !endpoints.pushedAuthorizationRequired) return undefined;
    const url = endpoints.pushedAuthorizationRequestUrl;
    if (!url) {
      throw new OAuthError(OAUTH_CODES.DISCOVERY, `${endpoints.issuer ?? this.name} advertises no pushed_authorization_request_endpoint; turn pushedAuthorizationRequests off for it.`, {
        status: 502,
      });
    }
    return { url, client: this.tokenClient, fetch: this.fetch, timeoutMs: this.timeoutMs };
  }

  /**
   * Whether a login's token record keeps the raw ID token. It is needed only as `id_token_hint`
   * when logout continues at the provider's end-session endpoint; otherwise the record keeps just
   * the claims a refreshed ID token is checked against (the ID token is most of a record: 596 of
   * 821 characters for the test provider's).
   */
  keepsIdToken(endpoints: ProviderEndpoints): boolean {
    return this.idpLogout && endpoints.endSessionUrl !== undefined;
  }

  /**
   * RFC 7009: revoke the refresh token, then the access token, when the provider has a revocation
   * endpoint, each with a DPoP proof of the login's key when it has one (RFC 9449 §5). Failures are
   * logged and reported on the `error` event; this never throws.
   */
  async revoke(ended: EndedTokens | undefined): Promise<void> {
    if (!ended) return;
    const { tokens, dpop } = ended;
    const url = (await this.endpoints().catch(() => undefined))?.revocationUrl;
    if (!url) return;
    const pairs: Array<[string | undefined, 'refresh_token' | 'access_token']> = [
      [tokens.refreshToken, 'refresh_token'],
      [tokens.accessToken, 'access_token'],
    ];
    for (const [token, hint] of pairs) {
      if (!token) continue;
      await revokeToken({ fetch: this.fetch, url, client: this.tokenClient, timeoutMs: this.timeoutMs, dpop: dpop && { key: dpop, proofs: this.dpop } }, token, hint).catch((err: unknown) => {
        log('revoking the %s of %s failed (%s)', hint, this.name, (err as Error).message);
        this.events.emit('error', { provider: this.name, code: (err as { code?: string }).code ?? 'revocation', status: 502 });
      });
    }
  }
}
