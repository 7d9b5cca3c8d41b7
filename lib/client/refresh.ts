import { debugFor, tokenId } from '../debug.js';
import { OAUTH_CODES, ReauthenticationRequiredError, SessionUnavailableError, TimeoutError, TokenEndpointError } from '../errors.js';
import { isExpiring } from '../protocol/token-set.js';
import type { RefreshLock } from '../session/lock.js';
import type { LoginSession } from '../session/login-session.js';
import type { TokenRecord } from '../session/token-record.js';
import { endedTokens } from '../session/token-records.js';
import type { ProviderLink } from './provider-link.js';
import type { TokenEvents } from './token-events.js';
import { HeldLease } from './held-lease.js';
import { LoginQueue } from './login-queue.js';
import { PendingWrites } from './pending-writes.js';
import { revokeApiTokens, revokeEnded } from './revoke.js';
import { validateRefreshResponse } from './validate-tokens.js';
import { ATTR } from '../telemetry/attributes.js';
import { NOOP_SPAN, type SpanScope } from '../telemetry/telemetry.js';
import { LockWait } from './lock-wait.js';

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
  /** How long a refresh lease lasts unless extended (default `timeoutMs` + 5 s); it is extended while the refresh runs. */
  leaseMs?: number;
  /** The `idpLogout` option: records keep the raw ID token (for `id_token_hint`) when the provider has an end-session endpoint. */
  idpLogout: boolean;
  now?: () => number;
  /** Told of each failed refresh (diagnostics.ts logs a provider failure's real reason once per cause). */
  onFailure?: (err: unknown, provider: string) => void;
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
  readonly #leaseMs: number;
  readonly #now: () => number;
  readonly #onFailure: ((err: unknown, provider: string) => void) | undefined;
  /** Refresh results the store did not take yet (pending-writes.ts). */
  readonly #pending: PendingWrites;
  /** Every grant spending a login's refresh token, one at a time per login in this process (login-queue.ts). */
  readonly queue = new LoginQueue();

  constructor(options: RefresherOptions) {
    this.#lock = options.lock;
    this.#timeoutMs = options.timeoutMs;
    this.#announce = options.announce;
    this.#idpLogout = options.idpLogout;
    this.#leaseMs = options.leaseMs ?? options.timeoutMs + 5_000;
    this.#now = options.now ?? (() => Date.now());
    this.#onFailure = options.onFailure;
    this.#pending = new PendingWrites({
      retryWindowMs: 4 * this.#leaseMs,
      onEnded: async ({ record, link }) => {
        log('login of %s ended while its refresh result was pending; revoking it', link.name);
        await revokeEnded(link, endedTokens(record), this.#announce);
      },
    });
  }

  /** Whether `record` needs the refresher: it expires within the leeway, or this process holds a newer one whose write is pending. */
  isDue(login: LoginRef, record: TokenRecord): boolean {
    if (isExpiring(record.tokens, this.#now(), login.link.provider.refreshLeewayMs)) return true;
    return this.#pending.size > 0 && this.#pending.newerThan(login.session.loginKey(login.link.name), record) !== undefined;
  }

  /** Resolves when no refresh result is being written in the background (tests await it). */
  idle(): Promise<void> {
    return this.#pending.idle();
  }

  /** The record, refreshed first when it expires within the leeway. */
  ensureFresh(login: LoginRef, record: TokenRecord): Promise<TokenRecord> {
    if (!this.isDue(login, record)) return Promise.resolve(record);
    return this.#run(login, record, 'when-due');
  }

  /** A refresh now, whatever the expiry (`req.oauth.refresh()`, or the API refused `stale`); shares an in-flight one. */
  renew(login: LoginRef, stale: TokenRecord): Promise<TokenRecord> {
    return this.#run(login, stale, 'now');
  }

  /** The `oauth2.refresh` span around one refresh of a login (joined, reused or made here). */
  #run(login: LoginRef, record: TokenRecord, urgency: Urgency): Promise<TokenRecord> {
    return login.link.telemetry.span('oauth2.refresh', { [ATTR.provider]: login.link.name }, (span) => this.#runIn(login, record, urgency, span));
  }

  async #runIn(login: LoginRef, record: TokenRecord, urgency: Urgency, span: SpanScope): Promise<TokenRecord> {
    const { link } = login;
    const key = login.session.loginKey(link.name);
    const pending = this.#pending.newerThan(key, record);
    if (pending) {
      // This process holds a newer record than the caller saw (its write is pending): write it
      // now if the store takes it (so other processes see it), and use it either way.
      await this.#pending.flush(key);
      span.set(ATTR.refreshOutcome, 'pending');
      if (!isExpiring(pending.tokens, this.#now(), link.provider.refreshLeewayMs)) return pending;
      record = pending;
    }
    const backoff = this.#backoff.get(key);
    if (backoff && backoff.until > this.#now()) {
      span.set(ATTR.refreshOutcome, 'backoff');
      return this.#fallBack(backoff.error, record, urgency, link, span);
    }
    if (backoff) this.#backoff.delete(key);
    const running = this.#inflight.get(key);
    if (running) {
      span.set(ATTR.refreshOutcome, 'joined');
      this.#announce.joined(link.name, record.tokens.accessToken);
      log('joined in-flight refresh of %s', link.name);
      return running;
    }
    const flight = this.queue
      .run(key, () => this.#refreshUnderLock(login, key, record, urgency, span))
      .catch((err: unknown) => {
        link.telemetry.countRefreshFailure(link.name, err);
        this.#onFailure?.(err, link.name);
        const retryAfterMs = (err as { retryAfterMs?: number }).retryAfterMs;
        if (retryAfterMs) this.#rememberBackoff(key, retryAfterMs, err);
        return this.#fallBack(err, record, urgency, link, span);
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
  #fallBack(err: unknown, record: TokenRecord, urgency: Urgency, link: ProviderLink, span: SpanScope): TokenRecord {
    const transient = !(err instanceof ReauthenticationRequiredError);
    const stillValid = record.tokens.expiresAt !== undefined && record.tokens.expiresAt > this.#now();
    if (urgency === 'now' || !transient || !stillValid) throw err;
    span.set(ATTR.refreshOutcome, 'kept_valid_token');
    log('refresh of %s failed (%s); the current token is still valid, using it', link.name, (err as Error).message);
    return record;
  }

  /** Another worker refreshed since `seen`: a newer record with another access token (a per-API grant also writes a newer record, keeping the login's token). */
  #isFreshFor(record: TokenRecord, seen: TokenRecord, link: ProviderLink): boolean {
    return record.v > seen.v && record.tokens.accessToken !== seen.tokens.accessToken && !isExpiring(record.tokens, this.#now(), link.provider.refreshLeewayMs);
  }

  async #refreshUnderLock(login: LoginRef, key: string, seen: TokenRecord, urgency: Urgency, span: SpanScope): Promise<TokenRecord> {
    const { link, session } = login;
    const lockTtl = this.#leaseMs;
    const deadline = this.#now() + 2 * lockTtl;
    const wait = new LockWait(link.telemetry, link.name);
    try {
      for (;;) {
        // Every lock command shares the request's budget (a paused lock Redis answers 503, not a hang).
        const lease = await this.#lock.acquire(key, lockTtl, { timeoutMs: session.remainingMs('take the refresh lock') });
        if (lease) {
          wait.end('acquired');
          const held = new HeldLease(lease, lockTtl, this.#timeoutMs);
          try {
            const current = await this.#reread(login);
            if (this.#isFreshFor(current, seen, link)) return this.#reused(link, current, span);
            if (urgency === 'when-due' && !isExpiring(current.tokens, this.#now(), link.provider.refreshLeewayMs)) {
              span.set(ATTR.refreshOutcome, 'not_due');
              return current;
            }
            return await this.#refresh(login, key, current, held, span);
          } finally {
            if (!held.handedOff) await held.release();
          }
        }
        await this.#lock.waitForRelease(key, Math.min(lockTtl, session.remainingMs('wait for the refresh lock')));
        const current = await this.#reread(login);
        if (this.#isFreshFor(current, seen, link)) {
          wait.end('reused');
          return this.#reused(link, current, span);
        }
        if (this.#now() > deadline) throw new TimeoutError('Timed out waiting for another process to refresh the token.');
      }
    } catch (err) {
      wait.end(err instanceof TimeoutError ? 'timeout' : 'error', err);
      throw err;
    }
  }

  #reused(link: ProviderLink, record: TokenRecord, span: SpanScope): TokenRecord {
    span.set(ATTR.refreshOutcome, 'reused');
    log('another worker refreshed %s already (token %s)', link.name, tokenId(record.tokens.accessToken));
    this.#announce.reused(link.name, record.tokens.accessToken);
    return record;
  }

  /** @internal The lock, lease length, and call timeout, for the other grants of a login (login-grants.ts). */
  get lockSettings(): { lock: RefreshLock; leaseMs: number; timeoutMs: number; now: () => number } {
    return { lock: this.#lock, leaseMs: this.#leaseMs, timeoutMs: this.#timeoutMs, now: this.#now };
  }

  /** @internal The login's record as stored, or this process's newer one whose write is pending. */
  reread(login: LoginRef): Promise<TokenRecord> {
    return this.#reread(login);
  }

  /** @internal The store step for another grant of the login (login-grants.ts): same tombstone check, same pending-write retry. */
  store(login: LoginRef, key: string, next: TokenRecord, held: HeldLease): Promise<void> {
    return this.#store(login, key, next, held);
  }

  /** @internal The refresh token was rejected in another grant of the login: a newer record if another worker rotated it, else the login ends. */
  rejected(login: LoginRef, key: string, current: TokenRecord, cause: TokenEndpointError): Promise<TokenRecord> {
    return this.#onRejected(login, key, current, cause, NOOP_SPAN);
  }

  async #reread({ session, link }: LoginRef): Promise<TokenRecord> {
    const stored = await session.readTokens(link.name);
    const record = stored && (this.#pending.newerThan(session.loginKey(link.name), stored) ?? stored);
    if (!record) throw new ReauthenticationRequiredError('The login ended (tokens are gone); log in again.', OAUTH_CODES.NOT_AUTHENTICATED);
    return record;
  }

  async #refresh(login: LoginRef, key: string, current: TokenRecord, held: HeldLease, span: SpanScope): Promise<TokenRecord> {
    const { session, link } = login;
    const refreshToken = current.tokens.refreshToken;
    if (!refreshToken) {
      throw new ReauthenticationRequiredError('The access token expired and the provider gave no refresh token; log in again.');
    }
    const endpoints = await link.endpoints();
    let body;
    try {
      const grant = { provider: link.name, tokenUrl: endpoints.tokenUrl, grantType: 'refresh_token' };
      body = await link.telemetry.tokenRequest('oauth2.refresh_grant', grant, () => link.tokenEndpoint.refreshGrant(endpoints.tokenUrl, refreshToken, current.dpop));
    } catch (err) {
      if (err instanceof TokenEndpointError && err.error === 'invalid_grant') return this.#onRejected(login, key, current, err, span);
      throw err;
    }
    const { next, idToken } = await validateRefreshResponse(link, endpoints, body, current, { now: this.#now(), idpLogout: this.#idpLogout });
    if (!(await held.stillHeld(session.budgetLeftMs('check the refresh lease')))) {
      // The lease lapsed (or its Redis is failing over) while the provider answered: another
      // process may have refreshed too. Its record, when there is one, is what every other process
      // uses: keep it, revoke ours. When the store cannot say (failing over too), keep ours: the
      // provider rotated the refresh token for this result, so it must not be lost.
      const latest = await session.readTokens(link.name).catch(() => undefined);
      if (latest && latest.v > current.v) {
        log('the refresh lease of %s lapsed and another worker refreshed; revoking this result', link.name);
        await revokeEnded(link, endedTokens(next), this.#announce);
        return latest;
      }
    }
    await this.#store(login, key, next, held);
    span.set(ATTR.refreshOutcome, 'refreshed');
    log('refreshed %s: token %s → %s', link.name, tokenId(current.tokens.accessToken), tokenId(next.tokens.accessToken));
    // onTokens sees a verified refreshed ID token even when the record does not keep it.
    await this.#announce.refreshed(session.sessionId, link.name, idToken ? { ...next.tokens, idToken } : next.tokens, current.tokens);
    return next;
  }

  /**
   * The store step. Written: true. The login ended during the refresh (its tombstone): what was
   * written is undone and the new tokens revoked. The store failed (failing over between the
   * token response and the write): the provider has rotated the refresh token already, so the
   * result is kept in memory and retried in the background under the lease (PendingWrites), and
   * this request goes on with it.
   */
  async #store(login: LoginRef, key: string, next: TokenRecord, held: HeldLease): Promise<void> {
    const { session, link } = login;
    let result;
    try {
      result = await session.commitRefresh(link.name, next);
    } catch (err) {
      if (!(err instanceof SessionUnavailableError)) throw err;
      log('writing the refresh result of %s failed (%s); keeping it and retrying', link.name, err.message);
      this.#pending.hold(key, { record: next, session: session.detached(link.name, this.#timeoutMs), link }, held);
      return;
    }
    if (result.kind === 'committed') return;
    // The login ended (logout, re-login) while the token call was in flight: no token outlives it.
    log('login of %s ended during the refresh; revoking the new tokens', link.name);
    await revokeEnded(link, endedTokens(next), this.#announce);
    throw new ReauthenticationRequiredError('The login ended while its tokens were being refreshed; log in again.', OAUTH_CODES.NOT_AUTHENTICATED);
  }

  /** invalid_grant: maybe another worker rotated the token meanwhile; else the login is over. */
  async #onRejected({ session, link }: LoginRef, key: string, current: TokenRecord, cause: TokenEndpointError, span: SpanScope): Promise<TokenRecord> {
    const pending = this.#pending.newerThan(key, current);
    if (pending) {
      // This process rotated the token already and its write is still pending: not a logout.
      await this.#pending.flush(key);
      return pending;
    }
    const latest = await session.readTokens(link.name);
    if (latest && latest.v > current.v) {
      span.set(ATTR.refreshOutcome, 'race_lost');
      log("refresh of %s lost a race; using the winner's token", link.name);
      this.#announce.raceLost(link.name);
      return latest;
    }
    await session.forgetTokens(link.name);
    log('refresh of %s rejected (invalid_grant): tokens cleared', link.name);
    // The login's API tokens may outlive its refresh token at the provider: they end with it.
    await revokeApiTokens(link, endedTokens(current), this.#announce);
    await this.#announce.loggedOut(session.sessionId, link.name, current.tokens, 'refresh-rejected');
    throw new ReauthenticationRequiredError('The provider rejected the refresh token; log in again.', OAUTH_CODES.REAUTHENTICATION_REQUIRED, cause);
  }
}
