import type { Store } from 'express-session';
import type { ResolvedProvider, TokensEvent } from '../config/options.js';
import { debugFor, tokenId } from '../debug.js';
import { OAUTH_CODES, ReauthenticationRequiredError, TimeoutError, TokenEndpointError } from '../errors.js';
import type { OAuthEventEmitter } from '../events.js';
import { acceptRefreshedIdToken, loginIdTokenClaims } from '../protocol/id-token.js';
import { refreshGrant } from '../protocol/token-endpoint.js';
import type { RefreshLock } from '../session/lock.js';
import { deleteRecord, readRecord, writeRecord, type CookieLike, type TokenRecord } from '../session/token-record.js';
import { withIdToken } from '../session/record-format.js';
import { hasTombstone, recordEndKey } from '../session/tombstone.js';
import type { ProviderLink } from './provider-link.js';
import { fromTokenResponse, isExpiring } from '../protocol/token-set.js';

const log = debugFor('refresh');

/** Everything a refresh needs to find and rewrite one login's token record. */
export interface RecordHandle {
  store: Store;
  sessionId: string;
  key: string;
  cookie: CookieLike;
  link: ProviderLink;
}

/** What the refresher needs from the middleware: passed explicitly, nothing more. */
export interface RefresherDeps {
  lock: RefreshLock;
  timeoutMs: number;
  events: OAuthEventEmitter;
  onTokens: ((event: TokensEvent) => void | Promise<void>) | undefined;
}

/**
 * Refreshes token records at most once at a time per record: an in-process map of promises
 * (concurrent requests of one process share one token call) plus the configured cross-process
 * lock (waiters re-read the record instead of refreshing again).
 */
export class Refresher {
  readonly #inflight = new Map<string, Promise<TokenRecord>>();
  /** After a failure with Retry-After: no token call for this record until then (the same error instead). */
  readonly #backoff = new Map<string, { until: number; error: unknown }>();

  readonly #deps: RefresherDeps;
  readonly #now: () => number;

  constructor(deps: RefresherDeps, now: () => number = () => Date.now()) {
    this.#deps = deps;
    this.#now = now;
  }

  private get events(): OAuthEventEmitter {
    return this.#deps.events;
  }

  private now(): number {
    return this.#now();
  }

  /** The record, refreshed first when it expires within the leeway (or when `force`). */
  async ensureFresh(handle: RecordHandle, record: TokenRecord, force = false): Promise<TokenRecord> {
    if (!force && !isExpiring(record.tokens, this.now(), handle.link.provider.refreshLeewayMs)) return record;
    const backoff = this.#backoff.get(handle.key);
    if (backoff && backoff.until > this.now()) return this.#fallBack(backoff.error, record, force, handle);
    if (backoff) this.#backoff.delete(handle.key);
    const running = this.#inflight.get(handle.key);
    if (running) {
      this.events.emit('refresh', { provider: handle.link.name, outcome: 'joined', tokenId: tokenId(record.tokens.accessToken) });
      log('joined in-flight refresh of %s', handle.link.name);
      return running;
    }
    const flight = this.#refreshUnderLock(handle, record.v, force)
      .catch((err: unknown) => {
        const retryAfterMs = (err as { retryAfterMs?: number }).retryAfterMs;
        if (retryAfterMs) this.#rememberBackoff(handle.key, retryAfterMs, err);
        return this.#fallBack(err, record, force, handle);
      })
      .finally(() => this.#inflight.delete(handle.key));
    this.#inflight.set(handle.key, flight);
    return flight;
  }

  #rememberBackoff(key: string, retryAfterMs: number, error: unknown): void {
    const now = this.now();
    if (this.#backoff.size >= 1000) for (const [k, v] of this.#backoff) if (v.until <= now) this.#backoff.delete(k);
    this.#backoff.set(key, { until: now + retryAfterMs, error });
  }

  /**
   * A proactive refresh that failed for a transient reason (AS down, timeout) must not fail a
   * request whose access token is still valid: keep using it until it really expires.
   */
  #fallBack(err: unknown, record: TokenRecord, force: boolean, handle: RecordHandle): TokenRecord {
    const transient = !(err instanceof ReauthenticationRequiredError);
    const stillValid = record.tokens.expiresAt !== undefined && record.tokens.expiresAt > this.now();
    if (force || !transient || !stillValid) throw err;
    log('refresh of %s failed (%s); the current token is still valid, using it', handle.link.name, (err as Error).message);
    return record;
  }

  #isFreshFor(record: TokenRecord, seen: number, provider: ResolvedProvider): boolean {
    return record.v > seen && !isExpiring(record.tokens, this.now(), provider.refreshLeewayMs);
  }

  async #refreshUnderLock(handle: RecordHandle, seen: number, force: boolean): Promise<TokenRecord> {
    const { lock, timeoutMs } = this.#deps;
    const lockTtl = timeoutMs + 5_000;
    const deadline = this.now() + 2 * lockTtl;
    for (;;) {
      const lease = await lock.acquire(handle.key, lockTtl);
      if (lease) {
        try {
          const current = await this.#reread(handle);
          if (this.#isFreshFor(current, seen, handle.link.provider)) return this.#reused(handle, current);
          if (!force && !isExpiring(current.tokens, this.now(), handle.link.provider.refreshLeewayMs)) return current;
          return await this.#refresh(handle, current);
        } finally {
          await lease.release().catch((err: unknown) => log('lock release failed: %s', (err as Error).message));
        }
      }
      await lock.waitForRelease(handle.key, lockTtl);
      const current = await this.#reread(handle);
      if (this.#isFreshFor(current, seen, handle.link.provider)) return this.#reused(handle, current);
      if (this.now() > deadline) throw new TimeoutError('Timed out waiting for another process to refresh the token.');
    }
  }

  #reused(handle: RecordHandle, record: TokenRecord): TokenRecord {
    log('another worker refreshed %s already (token %s)', handle.link.name, tokenId(record.tokens.accessToken));
    this.events.emit('refresh', { provider: handle.link.name, outcome: 'reused', tokenId: tokenId(record.tokens.accessToken) });
    return record;
  }

  async #reread(handle: RecordHandle): Promise<TokenRecord> {
    const record = await readRecord(handle.store, handle.key, this.#deps.timeoutMs);
    if (!record) throw new ReauthenticationRequiredError('The login ended (tokens are gone); log in again.', OAUTH_CODES.NOT_AUTHENTICATED);
    return record;
  }

  async #refresh(handle: RecordHandle, current: TokenRecord): Promise<TokenRecord> {
    const { link } = handle;
    const refreshToken = current.tokens.refreshToken;
    if (!refreshToken) {
      throw new ReauthenticationRequiredError('The access token expired and the provider gave no refresh token; log in again.');
    }
    const endpoints = await link.endpoints();
    let body;
    try {
      body = await refreshGrant(link.tokenClient, endpoints.tokenUrl, refreshToken, current.dpop);
    } catch (err) {
      if (err instanceof TokenEndpointError && err.error === 'invalid_grant') return this.#onRejected(handle, current, err);
      throw err;
    }
    const tokens = fromTokenResponse(body, this.now(), current.tokens, link.provider.defaultTokenType, link.provider.dpop);
    const { issuer, jwksUri } = endpoints;
    const idTokenRules = issuer && jwksUri ? { issuer, jwksUri, clientId: link.provider.clientId, fetch: link.fetch, timeoutMs: this.#deps.timeoutMs } : undefined;
    const original = loginIdTokenClaims(current.idTokenClaims, current.tokens.idToken);
    const verified = await acceptRefreshedIdToken(typeof body.id_token === 'string' ? body.id_token : undefined, original, idTokenRules);
    const kept = link.keepsIdToken(endpoints) ? (verified ?? current.tokens.idToken) : undefined;
    const next: TokenRecord = { v: current.v + 1, ...withIdToken(tokens, kept, original), ...(current.dpop ? { dpop: current.dpop } : {}) };
    await writeRecord(handle.store, handle.key, next, handle.cookie, this.#deps.timeoutMs);
    await this.#dropIfEnded(handle, next);
    log('refreshed %s: token %s → %s', link.name, tokenId(current.tokens.accessToken), tokenId(next.tokens.accessToken));
    this.events.emit('refresh', { provider: link.name, outcome: 'refreshed', tokenId: tokenId(next.tokens.accessToken) });
    // onTokens sees a verified refreshed ID token even when the record does not keep it.
    await this.notify(handle, verified ? { ...next.tokens, idToken: verified } : next.tokens, current.tokens, 'refresh');
    return next;
  }

  /**
   * The login may have ended (logout, re-login) while the token call was in flight: its record's
   * tombstone says so. Then what was just written is deleted and the new tokens revoked, so no
   * token outlives the login that asked for it.
   */
  async #dropIfEnded(handle: RecordHandle, written: TokenRecord): Promise<void> {
    if (!(await hasTombstone(handle.store, recordEndKey(handle.key), this.#deps.timeoutMs))) return;
    log('login of %s ended during the refresh; revoking the new tokens', handle.link.name);
    await deleteRecord(handle.store, handle.key, this.#deps.timeoutMs);
    await handle.link.revoke(written.tokens, written.dpop);
    throw new ReauthenticationRequiredError('The login ended while its tokens were being refreshed; log in again.', OAUTH_CODES.NOT_AUTHENTICATED);
  }

  /** invalid_grant: maybe another worker rotated the token meanwhile; else the login is over. */
  async #onRejected(handle: RecordHandle, current: TokenRecord, cause: TokenEndpointError): Promise<TokenRecord> {
    const latest = await readRecord(handle.store, handle.key, this.#deps.timeoutMs);
    if (latest && latest.v > current.v) {
      log("refresh of %s lost a race; using the winner's token", handle.link.name);
      this.events.emit('refresh-race-lost', { provider: handle.link.name });
      return latest;
    }
    await deleteRecord(handle.store, handle.key, this.#deps.timeoutMs);
    log('refresh of %s rejected (invalid_grant): tokens cleared', handle.link.name);
    this.events.emit('logout', { provider: handle.link.name, reason: 'refresh-rejected' });
    await this.notify(handle, undefined, current.tokens, 'logout');
    throw new ReauthenticationRequiredError('The provider rejected the refresh token; log in again.', OAUTH_CODES.REAUTHENTICATION_REQUIRED, cause);
  }

  /**
   * Run the `onTokens` hook. The tokens are already stored when it runs, so a failing hook must not
   * fail the request: its error is reported on the `error` event and in the debug log.
   */
  async notify(handle: { sessionId: string; link: { name: string } }, tokens: TokensEvent['tokens'], previous: TokensEvent['previous'], reason: TokensEvent['reason']): Promise<void> {
    const { onTokens } = this.#deps;
    if (!onTokens) return;
    try {
      await onTokens({ sessionId: handle.sessionId, provider: handle.link.name, tokens, previous, reason });
    } catch (err) {
      log('onTokens hook failed for %s (%s): %s', handle.link.name, reason, (err as Error)?.message);
      this.events.emit('error', { provider: handle.link.name, code: OAUTH_CODES.HOOK_FAILED, status: 500 });
    }
  }
}
