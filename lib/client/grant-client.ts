// The backend (non-user) client shared by clientCredentials() and passwordGrant(): one cached
// token, renewed before expiry with one token request in flight, and the req.oauth fetch helpers.
import type { FetchLike } from '../config/options.js';
import { debugFor, tokenId } from '../debug.js';
import { OutboundTransport, type ApiRequestInit } from './transport.js';
import { BearerMethods, prepareRequest, type ApiTarget } from './bearer.js';
import type { Credentials } from './dpop-transport.js';
import { sendWithRenewal, type RenewingSender } from './renew-and-retry.js';
import { generateDpopKey, type DpopKey, type DpopProofs } from '../protocol/dpop.js';
import { fromTokenResponse, isExpiring, type TokenSet } from '../protocol/token-set.js';
import type { Telemetry } from '../telemetry/telemetry.js';

const log = debugFor('grant');

export type { BackendClientOptions } from '../config/options.js';
export { resolveBackendOptions } from '../config/resolve-backend.js';

/** A backend client: a cached token (renewed before expiry, one request in flight) + fetch helpers. */
export class GrantClient extends BearerMethods {
  readonly #target: ApiTarget;
  readonly #request: (dpop: DpopKey | undefined) => Promise<Record<string, unknown>>;
  readonly #leewayMs: number;
  /** This client's own transport (its `fetch`, or its own undici pool) and DPoP proofs, and how it renews. */
  readonly #sender: RenewingSender;
  readonly #defaultTokenType: 'bearer' | undefined;
  /** RFC 9449: this client's DPoP key (one per client instance, in memory), made on first use. */
  readonly #dpop: Promise<DpopKey> | undefined;
  #token: TokenSet | undefined;
  #inflight: Promise<TokenSet> | undefined;

  constructor(
    target: ApiTarget,
    request: (dpop: DpopKey | undefined) => Promise<Record<string, unknown>>,
    options: {
      leewayMs: number;
      retryOn401: boolean;
      fetch: FetchLike | undefined;
      proofs: DpopProofs;
      timeoutMs?: number;
      defaultTokenType?: 'bearer' | undefined;
      dpop?: boolean;
      /** This client's spans (its transport's HTTP CLIENT spans); the caller wraps `request` in its grant span. */
      telemetry?: Telemetry;
    },
  ) {
    super();
    this.#target = target;
    this.#request = request;
    this.#leewayMs = options.leewayMs;
    this.#sender = {
      target,
      outbound: { transport: new OutboundTransport(options.fetch, options.timeoutMs, options.telemetry), proofs: options.proofs },
      retryOn401: options.retryOn401,
      renew: (stale) => this.#renew(stale),
    };
    this.#defaultTokenType = options.defaultTokenType;
    this.#dpop = options.dpop ? generateDpopKey() : undefined;
  }

  /** The cached token, or a new one when it expires within the leeway (or `force`). */
  async getToken(force = false): Promise<Readonly<TokenSet>> {
    const current = this.#token;
    if (!force && current && !isExpiring(current, Date.now(), this.#leewayMs)) return current;
    this.#inflight ??= (async () => this.#request(await this.#dpop))()
      .then((body) => {
        const token = Object.freeze(fromTokenResponse(body, Date.now(), undefined, this.#defaultTokenType, this.#dpop !== undefined));
        log('new backend token %s', tokenId(token.accessToken));
        this.#token = token;
        return token;
      })
      .finally(() => {
        this.#inflight = undefined;
      });
    return this.#inflight;
  }

  /** Forget the cached token (the next call requests a new one). */
  invalidate(): void {
    this.#token = undefined;
  }

  async fetch(input: string | URL, init: ApiRequestInit = {}): Promise<Response> {
    const req = prepareRequest(this.#target, input, init);
    const tokens = await this.getToken();
    return sendWithRenewal(this.#sender, req, { tokens, dpop: await this.#dpop });
  }

  /** The API refused `stale`: a new token, unless another call already replaced it. */
  async #renew(stale: Credentials): Promise<Credentials> {
    const tokens = this.#token === stale.tokens ? await this.getToken(true) : await this.getToken();
    return { tokens, dpop: stale.dpop };
  }

  /** Close this client's keep-alive connections (its undici pool; nothing with the `fetch` option). */
  close(): Promise<void> {
    return this.#sender.outbound.transport.close();
  }

  toJSON(): Record<string, unknown> {
    return { hasToken: this.#token !== undefined, expiresAt: this.#token?.expiresAt };
  }
}
