// What an API's 401/403 challenge means for the call that got it (RFC 6750 §3.1, RFC 9470 §3,
// RFC 9728 §5), for one API sender of one middleware instance: an answer the user can fix by
// logging in again becomes an `ApiChallengeError`; a challenge that names protected-resource
// metadata is checked against the API and the provider before the token goes there again.
import { debugFor } from '../debug.js';
import { ApiChallengeError, type ApiChallenge } from '../errors.js';
import { readBearerChallenge, type BearerChallenge } from '../protocol/www-authenticate.js';
import { RESOURCE_METADATA_TTL_MS, resourceMetadataMismatch, resourceMetadataMismatchError, type ResourceMetadataCache } from '../protocol/resource-metadata.js';
import { discardBody } from './transport.js';

const log = debugFor('http');

/** What one API sender knows about the API it calls and the provider whose token it sends. */
export interface ApiChallengeOptions {
  /** The provider whose login answers the challenge. */
  provider: string;
  /** `apis.<name>`, when the sender serves a configured API. */
  api?: string;
  /** `apis.<name>.resource` (RFC 8707): what the API's metadata must name. */
  resource?: string;
  /** The provider's issuer (configured or discovered): the metadata must list it. */
  issuer(): Promise<string | undefined>;
  /** The middleware instance's metadata documents. */
  metadata: ResourceMetadataCache;
  now?: () => number;
}

const CHALLENGE_STATUS = new Set([401, 403]);

/** RFC 6750 / RFC 9470 errors the user can answer by logging in again. */
function loginChallenge(challenge: BearerChallenge): ApiChallenge | undefined {
  if (challenge.error === 'insufficient_scope') return challenge.scope ? { error: challenge.error, scope: challenge.scope } : { error: challenge.error };
  if (challenge.error !== 'insufficient_user_authentication') return undefined;
  const out: ApiChallenge = { error: challenge.error };
  if (challenge.acrValues) out.acrValues = challenge.acrValues;
  if (challenge.maxAge !== undefined) out.maxAge = challenge.maxAge;
  return out;
}

/**
 * The challenge handler of one API sender. `assertAllowed` runs before every send (a map lookup
 * only when some metadata was refused); `inspect` only for a 401/403 with `WWW-Authenticate`.
 */
export class ApiChallenges {
  readonly #options: ApiChallengeOptions;
  readonly #now: () => number;
  /** Resources (configured, else request origins) whose metadata refused the token, until when. */
  readonly #refused = new Map<string, { until: number; metadataUrl: URL; why: string }>();

  constructor(options: ApiChallengeOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  #key(url: URL): string {
    return this.#options.resource ?? url.origin;
  }

  /** Throws the remembered mismatch when this API's metadata refused the token (nothing is sent). */
  assertAllowed(url: URL): void {
    if (this.#refused.size === 0) return;
    const key = this.#key(url);
    const refused = this.#refused.get(key);
    if (!refused) return;
    if (this.#now() < refused.until) throw resourceMetadataMismatchError(refused.metadataUrl, refused.why);
    this.#refused.delete(key);
  }

  /** Whether an answer may carry a challenge worth reading. */
  static isCandidate(res: Response): boolean {
    return CHALLENGE_STATUS.has(res.status) && res.headers.has('www-authenticate');
  }

  /**
   * Read an API's 401/403 challenge: `resource_metadata` is fetched and checked first (a
   * mismatch throws 502 `OAUTH_RESOURCE_METADATA_MISMATCH` and the token is not sent to that API
   * again for 10 minutes); `insufficient_scope` / `insufficient_user_authentication` throw
   * `ApiChallengeError`. Anything else returns the answer unchanged (`invalid_token` renews).
   */
  async inspect(res: Response, url: URL, tokenScheme: 'bearer' | 'dpop'): Promise<Response> {
    const challenge = readBearerChallenge(res.headers.get('www-authenticate'), tokenScheme);
    if (!challenge) return res;
    if (challenge.resourceMetadata) await this.#checkMetadata(res, url, challenge.resourceMetadata);
    const wanted = loginChallenge(challenge);
    if (!wanted) return res;
    await discardBody(res);
    log('%d %s from %s%s', res.status, challenge.error, url.origin, url.pathname);
    throw new ApiChallengeError({ provider: this.#options.provider, api: this.#options.api, apiStatus: res.status, challenge: wanted });
  }

  async #checkMetadata(res: Response, url: URL, metadataUrl: URL): Promise<void> {
    // Only the API's own origin may name where its metadata is: nothing else is fetched on its say.
    let why: string | undefined;
    try {
      why =
        metadataUrl.origin !== url.origin
          ? `is on another origin than the API (${url.origin})`
          : resourceMetadataMismatch(await this.#options.metadata.get(metadataUrl), { resource: this.#options.resource, requestUrl: url, issuer: await this.#options.issuer() });
    } catch (err) {
      await discardBody(res);
      throw err;
    }
    if (why === undefined) return;
    this.#refused.set(this.#key(url), { until: this.#now() + RESOURCE_METADATA_TTL_MS, metadataUrl, why });
    await discardBody(res);
    log('resource metadata of %s refused: %s', url.origin, why);
    throw resourceMetadataMismatchError(metadataUrl, why);
  }
}
