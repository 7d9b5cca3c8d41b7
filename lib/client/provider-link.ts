import { isIssuerTemplate } from '../config/issuer-template.js';
import type { FetchLike } from '../config/options.js';
import type { ResolvedProvider } from '../config/resolved.js';
import { OAUTH_CODES, OAuthError } from '../errors.js';
import { ProviderMetadata, type ProviderEndpoints } from '../protocol/discovery.js';
import type { PushedAuthorizationTarget } from '../protocol/par.js';
import { DpopProofs } from '../protocol/dpop.js';
import { RemoteKeySets } from '../protocol/jwks.js';
import { TokenEndpointClient, type TokenClientConfig } from '../protocol/token-endpoint.js';
import { ResourceMetadataCache } from '../protocol/resource-metadata.js';
import { ApiChallenges } from './api-challenges.js';
import type { ApiOutbound } from './dpop-transport.js';
import type { OutboundTransport } from './transport.js';
import { ATTR } from '../telemetry/attributes.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import { ApiRoutes } from './api-routes.js';

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
  /** The spans and metrics of the middleware instance (its transport's). */
  readonly telemetry: Telemetry;
  readonly #metadata: ProviderMetadata;
  #resourceMetadata: ResourceMetadataCache | undefined;
  readonly #challenges = new Map<string, ApiChallenges>();

  constructor(
    readonly provider: ResolvedProvider,
    /** The middleware instance's outbound transport. */
    readonly transport: OutboundTransport,
    readonly timeoutMs: number,
    /** The configured APIs whose tokens come from this provider's logins (`apis`). */
    readonly apis: ApiRoutes = new ApiRoutes([]),
  ) {
    this.tokenClient = {
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      authMethod: provider.tokenEndpointAuthMethod,
      assertionKey: provider.clientAssertion,
      // The issuer is known whenever the token URL is discovered (discovery needs it); an issuer
      // template names no one issuer: the token endpoint is the audience then (as Entra expects).
      assertionAudience: isIssuerTemplate(provider.issuer) ? provider.tokenUrl : (provider.issuer ?? provider.tokenUrl),
      headers: provider.tokenRequestHeaders,
      timeoutMs,
      tlsAgent: transport.httpsAgent(),
    };
    this.fetch = transport.fetch;
    this.telemetry = transport.telemetry;
    this.outbound = { transport, proofs: this.dpop };
    this.keys = new RemoteKeySets({ fetch: this.fetch, timeoutMs });
    this.tokenEndpoint = new TokenEndpointClient({ config: this.tokenClient, proofs: this.dpop });
    const traced = <T>(run: () => Promise<T>) =>
      this.telemetry.span('oauth2.discovery', { [ATTR.provider]: provider.name, 'server.address': provider.issuer && new URL(provider.issuer).hostname }, run);
    this.#metadata = new ProviderMetadata({ provider, fetch: this.fetch, timeoutMs, traced });
  }

  get name(): string {
    return this.provider.name;
  }

  endpoints(): Promise<ProviderEndpoints> {
    return this.#metadata.endpoints();
  }

  /**
   * The challenge handler (api-challenges.ts) of the sender of this provider's login token (no
   * `api`), or of one configured API with its `resource`: made once, kept for the middleware
   * instance (it remembers APIs whose resource metadata refused the token).
   */
  challenges(api?: { name: string; resource?: string }): ApiChallenges {
    const key = api ? `api:${api.name}` : '';
    let handler = this.#challenges.get(key);
    if (!handler) {
      this.#resourceMetadata ??= new ResourceMetadataCache({ fetch: this.fetch, timeoutMs: this.timeoutMs });
      handler = new ApiChallenges({
        provider: this.name,
        api: api?.name,
        resource: api?.resource,
        issuer: async () => (await this.endpoints()).issuer ?? this.provider.issuer,
        metadata: this.#resourceMetadata,
      });
      this.#challenges.set(key, handler);
    }
    return handler;
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
    const key = this.provider.requestObjectKey;
    // The request object's `aud` is the issuer (required with requestObjects).
    const requestObject = key && endpoints.issuer ? { clientId: this.provider.clientId, audience: endpoints.issuer, key } : undefined;
    return { url, client: this.tokenClient, fetch: this.fetch, timeoutMs: this.timeoutMs, requestObject };
  }
}
