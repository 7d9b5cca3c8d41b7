import { debugFor, tokenId } from '../debug.js';
import { OAUTH_CODES, ReauthenticationRequiredError, TimeoutError, TokenEndpointError } from '../errors.js';
import { isExpiring } from '../protocol/token-set.js';
import type { RefreshLock } from '../session/lock.js';
import type { LoginSession } from '../session/login-session.js';
import type { TokenRecord } from '../session/token-record.js';
import { endedTokens } from '../session/token-records.js';
import type { ProviderLink } from './provider-link.js';
import type { TokenEvents } from './token-events.js';
import { revokeEnded } from './revoke.js';
import { validateRefreshResponse } from './validate-tokens.js';

const log = debugFor('refresh');

/** `when-due`: only if the token expires within the leeway; `now`: whatever the expiry. */
type Urgency = 'when-due' | 'now';

/** One login's record to refresh: the session holding it and its provider. */
export interface LoginRef {
  session: LoginSession;
  link: ProviderLink;
}

/** What the refresher calls: the cross-process lock, the deadline, the announce step. */
export interface RefresherOptions {
  lock: RefreshLock;
  timeoutMs: number;
  announce: TokenEvents;
  /** The `idpLogout` option: records keep the raw ID token (for `id_token_hint`) when the provider has an end-session endpoint. */
  idpLogout: boolean;
  now?: () => number;
}

/**
 * The refresh grant of the token lifecycle, at most once at a time per login: an in-process map
 * of promises (concurrent requests of one process share one token call) plus the configured
 * cross-process lock (waiters re-read the record instead of refreshing again). Obtain → validate
 * (validate-tokens.ts) → store (`commitRefresh`, with the tombstone check) → announce; a rejected
 * refresh token ends the login (forgotten, announced).
 */
export class Refresher {
  readonly #inflight = new Map<string, Promise<TokenRecord>>();
  /** After a failure with Retry-After: no token call for this record until then (the same error instead). */
  readonly #backoff = new Map<string, { until: number; error: unknown }>();
  readonly #lock: RefreshLock;
  readonly #timeoutMs: number;
  readonly #announce: TokenEvents;
  readonly #idpLogout: boolean;
  readonly #now: () => number;

  constructor(options: RefresherOptions) {
    this.#lock = options.lock;
    this.#timeoutMs = options.timeoutMs;
    this.#announce = options.announce;
    this.#idpLogout = options.idpLogout;
    this.#now = options.now ?? (() => Date.now());
  }

  /** The record, refreshed first when it expires within the leeway. */
  ensureFresh(login: LoginRef, record: TokenRecord): Promise<TokenRecord> {
    if (!isExpiring(record.tokens, this.#now(), login.link.provider.refreshLeewayMs)) return Promise.resolve(record);
    return this.#run(login, record, 'when-due');
  }

  /** A refresh now, whatever the expiry (`req.oauth.refresh()`, or the API refused `stale`); shares an in-flight one. */
  renew(login: LoginRef, stale: TokenRecord): Promise<TokenRecord> {
    return this.#run(login, stale, 'now');
  }

  async #run(login: LoginRef, record: TokenRecord, urgency: Urgency): Promise<TokenRecord> {
    const { link } = login;
    const key = login.session.loginKey(link.name);
    const backoff = this.#backoff.get(key);
    if (backoff && backoff.until > this.#now()) return this.#fallBack(backoff.error, record, urgency, link);
    if (backoff) this.#backoff.delete(key);
    const running = this.#inflight.get(key);
    if (running) {
      this.#announce.joined(link.name, record.tokens.accessToken);
      log('joined in-flight refresh of %s', link.name);
      return running;
    }
    const flight = this.#refreshUnderLock(login, key, record.v, urgency)
      .catch((err: unknown) => {
        const retryAfterMs = (err as { retryAfterMs?: number }).retryAfterMs;
        if (retryAfterMs) this.#rememberBackoff(key, retryAfterMs, err);
        return this.#fallBack(err, record, urgency, link);
      })
      .finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, flight);
    return flight;
  }

  #rememberBackoff(key: string, retryAfterMs: number, error: unknown): void {
    const now = this.#now();
    if (this.#backoff.size >= 1000) for (const [k, v] of this.#backoff) if (v.until <= now) this.#backoff.delete(k);
    this.#backoff.set(key, { until: now + retryAfterMs, error });
  }

  /**
   * A proactive refresh that failed for a transient reason (AS down, timeout) must not fail a
   * request whose access token is still valid: keep using it until it really expires.
   */
  #fallBack(err: unknown, record: TokenRecord, urgency: Urgency, link: ProviderLink): TokenRecord {
    const transient = !(err instanceof ReauthenticationRequiredError);
    const stillValid = record.tokens.expiresAt !== undefined && record.tokens.expiresAt > this.#now();
    if (urgency === 'now' || !transient || !stillValid) throw err;
    log('refresh of %s failed (%s); the current token is still valid, using it', link.name, (err as Error).message);
    return record;
  }

  #isFreshFor(record: TokenRecord, seen: number, link: ProviderLink): boolean {
    return record.v > seen && !isExpiring(record.tokens, this.#now(), link.provider.refreshLeewayMs);
  }

  async #refreshUnderLock(login: LoginRef, key: string, seen: number, urgency: Urgency): Promise<TokenRecord> {
    const { link } = login;
    const lockTtl = this.#timeoutMs + 5_000;
    const deadline = this.#now() + 2 * lockTtl;
    for (;;) {
      // Every lock command is bounded by the deadline (a paused lock Redis answers 503, not a hang).
      const lease = await this.#lock.acquire(key, lockTtl, { timeoutMs: this.#timeoutMs });
      if (lease) {
        try {
          const current = await this.#reread(login);
          if (this.#isFreshFor(current, seen, link)) return this.#reused(link, current);
          if (urgency === 'when-due' && !isExpiring(current.tokens, this.#now(), link.provider.refreshLeewayMs)) return current;
          return await this.#refresh(login, current);
        } finally {
          await lease.release({ timeoutMs: this.#timeoutMs }).catch((err: unknown) => log('lock release failed: %s', (err as Error).message));
        }
      }
      await this.#lock.waitForRelease(key, lockTtl);
      const current = await this.#reread(login);
      if (this.#isFreshFor(current, seen, link)) return this.#reused(link, current);
      if (this.#now() > deadline) throw new TimeoutError('Timed out waiting for another process to refresh the token.');
    }
  }

  #reused(link: ProviderLink, record: TokenRecord): TokenRecord {
    log('another worker refreshed %s already (token %s)', link.name, tokenId(record.tokens.accessToken));
    this.#announce.reused(link.name, record.tokens.accessToken);
    return record;
  }

  async #reread({ session, link }: LoginRef): Promise<TokenRecord> {
    const record = await session.readTokens(link.name);
    if (!record) throw new ReauthenticationRequiredError('The login ended (tokens are gone); log in again.', OAUTH_CODES.NOT_AUTHENTICATED);
    return record;
  }

  async #refresh(login: LoginRef, current: TokenRecord): Promise<TokenRecord> {
    const { session, link } = login;
    const refreshToken = current.tokens.refreshToken;
    if (!refreshToken) {
      throw new ReauthenticationRequiredError('The access token expired and the provider gave no refresh token; log in again.');
    }
    const endpoints = await link.endpoints();
    let body;
    try {
      body = await link.tokenEndpoint.refreshGrant(endpoints.tokenUrl, refreshToken, current.dpop);
    } catch (err) {
      if (err instanceof TokenEndpointError && err.error === 'invalid_grant') return this.#onRejected(login, current, err);
      throw err;
    }
    const { next, idToken } = await validateRefreshResponse(link, endpoints, body, current, { now: this.#now(), idpLogout: this.#idpLogout });
    if ((await session.commitRefresh(link.name, next)).kind === 'ended') {
      // The login ended (logout, re-login) while the token call was in flight: no token outlives it.
      log('login of %s ended during the refresh; revoking the new tokens', link.name);
      await revokeEnded(link, endedTokens(next), this.#announce);
      throw new ReauthenticationRequiredError('The login ended while its tokens were being refreshed; log in again.', OAUTH_CODES.NOT_AUTHENTICATED);
    }
    log('refreshed %s: token %s → %s', link.name, tokenId(current.tokens.accessToken), tokenId(next.tokens.accessToken));
    // onTokens sees a verified refreshed ID token even when the record does not keep it.
    await this.#announce.refreshed(session.sessionId, link.name, idToken ? { ...next.tokens, idToken } : next.tokens, current.tokens);
    return next;
  }

  /** invalid_grant: maybe another worker rotated the token meanwhile; else the login is over. */
  async #onRejected({ session, link }: LoginRef, current: TokenRecord, cause: TokenEndpointError): Promise<TokenRecord> {
    const latest = await session.readTokens(link.name);
    if (latest && latest.v > current.v) {
      log("refresh of %s lost a race; using the winner's token", link.name);
      this.#announce.raceLost(link.name);
      return latest;
    }
    await session.forgetTokens(link.name);
    log('refresh of %s rejected (invalid_grant): tokens cleared', link.name);
    await this.#announce.loggedOut(session.sessionId, link.name, current.tokens, 'refresh-rejected');
    throw new ReauthenticationRequiredError('The provider rejected the refresh token; log in again.', OAUTH_CODES.REAUTHENTICATION_REQUIRED, cause);
  }
}
