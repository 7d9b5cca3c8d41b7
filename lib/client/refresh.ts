import { debugFor } from '../debug.js';
import { ReauthenticationRequiredError, type TokenEndpointError } from '../errors.js';
import { isExpiring } from '../protocol/token-set.js';
import type { RefreshLock } from '../session/lock.js';
import type { LoginSession } from '../session/login-session.js';
import type { TokenRecord } from '../session/token-record.js';
import { ATTR } from '../telemetry/attributes.js';
import type { SpanScope } from '../telemetry/telemetry.js';
import type { HeldLease } from './held-lease.js';
import { LoginQueue } from './login-queue.js';
import type { PendingWrites } from './pending-writes.js';
import type { ProviderLink } from './provider-link.js';
import { RefreshUnderLock } from './refresh-under-lock.js';
import type { TokenEvents } from './token-events.js';

const log = debugFor('refresh');

/** `when-due`: only if the token expires within the leeway; `now`: whatever the expiry. */
export type Urgency = 'when-due' | 'now';

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
 * cross-process lock (waiters re-read the record instead of refreshing again). Here: when to
 * refresh (due, pending, backoff after Retry-After, a still-valid token kept on a transient
 * failure); the refresh itself under the lease, obtain → validate → store → announce, and a
 * rejected refresh token ending the login, are refresh-under-lock.ts's.
 */
export class Refresher {
  readonly #inflight = new Map<string, Promise<TokenRecord>>();
  /** After a failure with Retry-After: no token call for this record until then (the same error instead). */
  readonly #backoff = new Map<string, { until: number; error: unknown }>();
  readonly #lock: RefreshLock;
  readonly #timeoutMs: number;
  readonly #announce: TokenEvents;
  readonly #leaseMs: number;
  readonly #now: () => number;
  readonly #onFailure: ((err: unknown, provider: string) => void) | undefined;
  /** One refresh under the lease, and the refresh results the store did not take yet (refresh-under-lock.ts). */
  readonly #locked: RefreshUnderLock;
  readonly #pending: PendingWrites;
  /** Every grant spending a login's refresh token, one at a time per login in this process (login-queue.ts). */
  readonly queue = new LoginQueue();

  constructor(options: RefresherOptions) {
    this.#lock = options.lock;
    this.#timeoutMs = options.timeoutMs;
    this.#announce = options.announce;
    this.#leaseMs = options.leaseMs ?? options.timeoutMs + 5_000;
    this.#now = options.now ?? (() => Date.now());
    this.#onFailure = options.onFailure;
    this.#locked = new RefreshUnderLock({ lock: this.#lock, timeoutMs: this.#timeoutMs, leaseMs: this.#leaseMs, announce: this.#announce, idpLogout: options.idpLogout, now: this.#now });
    this.#pending = this.#locked.pending;
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
      .run(key, () => this.#locked.run(login, key, record, urgency, span))
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

  /** @internal The lock, lease length, and call timeout, for the other grants of a login (login-grants.ts). */
  get lockSettings(): { lock: RefreshLock; leaseMs: number; timeoutMs: number; now: () => number } {
    return { lock: this.#lock, leaseMs: this.#leaseMs, timeoutMs: this.#timeoutMs, now: this.#now };
  }

  /** @internal The login's record as stored, or this process's newer one whose write is pending. */
  reread(login: LoginRef): Promise<TokenRecord> {
    return this.#locked.reread(login);
  }

  /** @internal The store step for another grant of the login (login-grants.ts): same tombstone check, same pending-write retry. */
  store(login: LoginRef, key: string, next: TokenRecord, held: HeldLease): Promise<void> {
    return this.#locked.store(login, key, next, held);
  }

  /** @internal The refresh token was rejected in another grant of the login: a newer record if another worker rotated it, else the login ends. */
  rejected(login: LoginRef, key: string, current: TokenRecord, cause: TokenEndpointError): Promise<TokenRecord> {
    return this.#locked.rejected(login, key, current, cause);
  }
}
