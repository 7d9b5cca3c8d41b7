import { OAUTH_CODES, OAuthError } from '../errors.js';
import { isLoopbackUrl } from '../config/assert.js';
import type { FetchLike } from '../config/options.js';
import type { ResolvedProvider } from '../config/resolved.js';
import { BODY_LIMITS, readBoundedJson } from './bounded-body.js';

/** Endpoints of one provider after discovery (RFC 8414 / OIDC Discovery 1.0). */
export interface ProviderEndpoints {
  authorizationUrl: string;
  tokenUrl: string;
  issuer: string | undefined;
  jwksUri: string | undefined;
  revocationUrl: string | undefined;
  endSessionUrl: string | undefined;
  /** OIDC UserInfo endpoint: configured, else from discovery when it ran (see {@link ProviderMetadata.userinfoUrl}). */
  userinfoUrl: string | undefined;
  /** RFC 9207: the AS promises an `iss` parameter on every authorization response. */
  issParameterRequired: boolean;
  /** RFC 9126 `pushed_authorization_request_endpoint` (discovered only). */
  pushedAuthorizationRequestUrl: string | undefined;
  /** RFC 9126 `require_pushed_authorization_requests`: PAR is on whatever the option says. */
  pushedAuthorizationRequired: boolean;
  /** `token_endpoint_auth_signing_alg_values_supported`, when the AS lists them. */
  tokenEndpointAuthSigningAlgs: readonly string[] | undefined;
  /** `id_token_signing_alg_values_supported`, when discovery ran and the document lists them (logout tokens are held to it). */
  idTokenSigningAlgs: readonly string[] | undefined;
  /** Issuers of the other configured providers: a callback naming one of them is a mix-up. */
  foreignIssuers: readonly string[];
}

interface DiscoveryDocument {
  issuer?: unknown;
  authorization_endpoint?: unknown;
  token_endpoint?: unknown;
  jwks_uri?: unknown;
  revocation_endpoint?: unknown;
  end_session_endpoint?: unknown;
  userinfo_endpoint?: unknown;
  authorization_response_iss_parameter_supported?: unknown;
  code_challenge_methods_supported?: unknown;
  pushed_authorization_request_endpoint?: unknown;
  require_pushed_authorization_requests?: unknown;
  token_endpoint_auth_signing_alg_values_supported?: unknown;
  id_token_signing_alg_values_supported?: unknown;
  mtls_endpoint_aliases?: unknown;
}

/** RFC 8705 §5: the endpoints a client presenting a TLS certificate uses from `mtls_endpoint_aliases`. */
const MTLS_ALIASED: ReadonlySet<keyof DiscoveryDocument> = new Set(['token_endpoint', 'revocation_endpoint', 'userinfo_endpoint', 'pushed_authorization_request_endpoint']);

/** First wait after a failed discovery; doubled after each further failure, up to the maximum. */
export const DISCOVERY_RETRY_MIN_MS = 1000;
export const DISCOVERY_RETRY_MAX_MS = 60_000;

interface CacheEntry {
  pending: Promise<ProviderEndpoints>;
  /** Set once `pending` failed: no new attempt before this time (epoch ms). */
  retryAt?: number;
  /** The wait after the next failure. */
  nextBackoffMs: number;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && /^https?:\/\//.test(v) ? v : undefined;
}

/**
 * A discovered endpoint, held to the rule a configured one obeys (`assertHttpUrl`): https unless
 * its host is loopback, so tokens, codes and client credentials never cross a network in clear text.
 * Only endpoints the package will use are checked (a configured one overrides the document's).
 */
function endpoint(doc: DiscoveryDocument, field: keyof DiscoveryDocument, issuer: string, mtls = false): string | undefined {
  const aliases =
    mtls && MTLS_ALIASED.has(field) && typeof doc.mtls_endpoint_aliases === 'object' && doc.mtls_endpoint_aliases !== null ? (doc.mtls_endpoint_aliases as Record<string, unknown>) : undefined;
  const value = str(aliases?.[field]) ?? str(doc[field]);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OAuthError(OAUTH_CODES.DISCOVERY, `Discovery document of ${issuer}: ${field} is not a valid URL.`, { status: 502 });
  }
  if (url.protocol === 'http:' && !isLoopbackUrl(url)) {
    throw new OAuthError(OAUTH_CODES.DISCOVERY, `Discovery document of ${issuer}: ${field} (${url.origin}) must use https; http is allowed only for loopback hosts.`, { status: 502 });
  }
  return value;
}

function needsDiscovery(p: ResolvedProvider): boolean {
  return p.issuer !== undefined && (!p.authorizationUrl || !p.tokenUrl || !p.jwksUri || p.pushedAuthorizationRequests);
}

function stringList(v: unknown): readonly string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? Object.freeze([...v]) : undefined;
}

/**
 * The discovered issuer differs from the configured one: name both (the discovered one made
 * printable and short: it comes from the network), and point at a trailing-slash difference.
 */
function issuerMismatch(configured: string, discovered: unknown): OAuthError {
  const shown = typeof discovered === 'string' ? `"${discovered.slice(0, 200).replace(/[^\x20-\x7E]/g, '?')}"` : 'no issuer';
  const slash =
    typeof discovered === 'string' && discovered.replace(/\/$/, '') === configured.replace(/\/$/, '')
      ? ' They differ only in the trailing slash: copy the issuer exactly as the provider writes it.'
      : '';
  return new OAuthError(
    OAUTH_CODES.DISCOVERY,
    `The discovery document names issuer ${shown}, but the configured issuer is "${configured}"; they must be identical (OIDC Discovery 4.3). Set \`issuer\` to the provider's value if you trust it.${slash}`,
    { status: 502 },
  );
}

async function discover(p: ResolvedProvider, fetchFn: FetchLike, timeoutMs: number): Promise<ProviderEndpoints> {
  const issuer = p.issuer as string;
  const url = p.discoveryUrl ?? `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let doc: DiscoveryDocument;
  try {
    const res = await fetchFn(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    doc = (await readBoundedJson(res, BODY_LIMITS.discovery, 'discovery')) as DiscoveryDocument;
  } catch (err) {
    throw new OAuthError(OAUTH_CODES.DISCOVERY, `Discovery of ${issuer} failed; try again shortly.`, { status: 503, cause: err });
  }
  // OIDC Discovery §4.3: the issuer in the document must be exactly the one we asked for.
  if (doc.issuer !== issuer) throw issuerMismatch(issuer, doc.issuer);
  const discovered = (field: keyof DiscoveryDocument) => endpoint(doc, field, issuer, p.tlsClientCertificate !== undefined);
  // RFC 9700 §2.1.1: never rely on PKCE the AS says it does not support.
  const methods = doc.code_challenge_methods_supported;
  if (p.pkce && Array.isArray(methods) && !methods.includes('S256')) {
    throw new OAuthError(OAUTH_CODES.DISCOVERY, `${issuer} does not support PKCE S256; set pkce: false only if you accept that.`, { status: 502 });
  }
  const authorizationUrl = p.authorizationUrl ?? discovered('authorization_endpoint');
  const tokenUrl = p.tokenUrl ?? discovered('token_endpoint');
  if (!authorizationUrl || !tokenUrl) {
    throw new OAuthError(OAUTH_CODES.DISCOVERY, `Discovery document of ${issuer} lacks authorization or token endpoint.`, { status: 502 });
  }
  return {
    authorizationUrl,
    tokenUrl,
    issuer,
    jwksUri: p.jwksUri ?? discovered('jwks_uri'),
    revocationUrl: p.revocationUrl ?? discovered('revocation_endpoint'),
    endSessionUrl: p.endSessionUrl ?? discovered('end_session_endpoint'),
    userinfoUrl: p.userinfoUrl ?? discovered('userinfo_endpoint'),
    issParameterRequired: p.authorizationResponseIssParameterSupported || doc.authorization_response_iss_parameter_supported === true,
    // Checked only when PAR will be used: an unused endpoint cannot leak anything.
    pushedAuthorizationRequestUrl: p.pushedAuthorizationRequests || doc.require_pushed_authorization_requests === true ? discovered('pushed_authorization_request_endpoint') : undefined,
    pushedAuthorizationRequired: doc.require_pushed_authorization_requests === true,
    tokenEndpointAuthSigningAlgs: stringList(doc.token_endpoint_auth_signing_alg_values_supported),
    idTokenSigningAlgs: stringList(doc.id_token_signing_alg_values_supported),
    foreignIssuers: p.foreignIssuers,
  };
}

function configuredEndpoints(p: ResolvedProvider): ProviderEndpoints {
  return {
    authorizationUrl: p.authorizationUrl as string,
    tokenUrl: p.tokenUrl as string,
    issuer: p.issuer,
    jwksUri: p.jwksUri,
    revocationUrl: p.revocationUrl,
    endSessionUrl: p.endSessionUrl,
    userinfoUrl: p.userinfoUrl,
    issParameterRequired: p.authorizationResponseIssParameterSupported,
    pushedAuthorizationRequestUrl: undefined,
    pushedAuthorizationRequired: false,
    tokenEndpointAuthSigningAlgs: undefined,
    idTokenSigningAlgs: undefined,
    foreignIssuers: p.foreignIssuers,
  };
}

/**
 * The metadata of one provider, owned by its link (one per provider per middleware instance, so
 * two instances never share a discovery result): the endpoints, from config when complete (no
 * network), else discovered once from `issuer` and kept; and the UserInfo endpoint.
 */
export class ProviderMetadata {
  readonly #provider: ResolvedProvider;
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number;
  /** Runs each discovery (the `oauth2.discovery` span of the provider's telemetry). */
  readonly #traced: <T>(run: () => Promise<T>) => Promise<T>;
  #endpoints: CacheEntry | undefined;
  #userinfoUrl: Promise<string | undefined> | undefined;

  constructor(options: { provider: ResolvedProvider; fetch: FetchLike; timeoutMs: number; traced?: <T>(run: () => Promise<T>) => Promise<T> }) {
    this.#provider = options.provider;
    this.#fetch = options.fetch;
    this.#timeoutMs = options.timeoutMs;
    this.#traced = options.traced ?? ((run) => run());
  }

  /**
   * The provider's endpoints. A failed discovery is answered from the cache for a short while (1 s,
   * doubling up to 60 s while it keeps failing, reset by a success), so an outage costs the
   * provider a handful of requests instead of one per `/login`.
   */
  endpoints(): Promise<ProviderEndpoints> {
    const p = this.#provider;
    const entry = this.#endpoints;
    if (entry && (entry.retryAt === undefined || Date.now() < entry.retryAt)) return entry.pending;
    if (!needsDiscovery(p)) {
      const pending = Promise.resolve(configuredEndpoints(p));
      this.#endpoints = { pending, nextBackoffMs: DISCOVERY_RETRY_MIN_MS };
      return pending;
    }
    const next: CacheEntry = { pending: this.#traced(() => discover(p, this.#fetch, this.#timeoutMs)), nextBackoffMs: DISCOVERY_RETRY_MIN_MS };
    const backoffMs = entry?.nextBackoffMs ?? DISCOVERY_RETRY_MIN_MS;
    next.pending.catch(() => {
      next.retryAt = Date.now() + backoffMs;
      next.nextBackoffMs = Math.min(backoffMs * 2, DISCOVERY_RETRY_MAX_MS);
    });
    this.#endpoints = next;
    return next.pending;
  }

  /**
   * The UserInfo endpoint (OIDC Core §5.3): `userinfoUrl` when configured, else the discovered
   * `userinfo_endpoint`. A provider whose other endpoints are all configured is discovered here, on
   * first use, and only then (startup stays free of network calls). Undefined without an issuer.
   */
  async userinfoUrl(): Promise<string | undefined> {
    const p = this.#provider;
    const endpoints = await this.endpoints();
    if (endpoints.userinfoUrl || p.issuer === undefined || needsDiscovery(p)) return endpoints.userinfoUrl;
    let pending = this.#userinfoUrl;
    if (!pending) {
      const found = this.#traced(() => discover(p, this.#fetch, this.#timeoutMs)).then((doc) => doc.userinfoUrl);
      this.#userinfoUrl = pending = found;
      found.catch(() => {
        if (this.#userinfoUrl === found) this.#userinfoUrl = undefined;
      });
    }
    return pending;
  }
}
