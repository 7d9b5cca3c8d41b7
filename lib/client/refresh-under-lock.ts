import { debugFor, tokenId } from '../debug.js';
import { OAUTH_CODES, ReauthenticationRequiredError, SessionUnavailableError, TimeoutError, TokenEndpointError } from '../errors.js';
import { isExpiring } from '../protocol/token-set.js';
import type { RefreshLock } from '../session/lock.js';
import type { TokenRecord } from '../session/token-record.js';
import { endedTokens } from '../session/token-records.js';
import { ATTR } from '../telemetry/attributes.js';
import { NOOP_SPAN, type SpanScope } from '../telemetry/telemetry.js';
import { HeldLease } from './held-lease.js';
import { LockWait } from './lock-wait.js';
import { PendingWrites } from './pending-writes.js';
import type { ProviderLink } from './provider-link.js';
import type { LoginRef, Urgency } from './refresh.js';
import { revokeApiTokens, revokeEnded } from './revoke.js';
import type { TokenEvents } from './token-events.js';
import { validateRefreshResponse } from './validate-tokens.js';

const log = debugFor('refresh');

/** What one refresh under the lock needs: the lock and its lease, the call deadline, the announce step. */
export interface RefreshUnderLockOptions {
  lock: RefreshLock;
  timeoutMs: number;
  leaseMs: number;
  announce: TokenEvents;
  idpLogout: boolean;
  now: () => number;
}

/**
 * One refresh of a login under the cross-process lease (refresh.ts decides when, and shares it in
 * process): take the lease or wait for it and re-read (another worker may have refreshed), then
 * obtain (the refresh grant) → validate (validate-tokens.ts) → store (`commitRefresh`, with the
 * tombstone check; a failed write kept and retried, pending-writes.ts) → announce. A rejected
 * refresh token ends the login (forgotten, its API tokens revoked, announced) unless another worker
 * rotated it. The login's other grants use its store and rejection steps too (login-grants.ts).
 */
export class RefreshUnderLock {
  readonly #lock: RefreshLock;
  readonly #timeoutMs: number;
  readonly #announce: TokenEvents;
  readonly #idpLogout: boolean;
  readonly #leaseMs: number;
  readonly #now: () => number;
  /** Refresh results the store did not take yet (pending-writes.ts). */
  readonly pending: PendingWrites;

  constructor(options: RefreshUnderLockOptions) {
    this.#lock = options.lock;
    this.#timeoutMs = options.timeoutMs;
    this.#announce = options.announce;
    this.#idpLogout = options.idpLogout;
    this.#leaseMs = options.leaseMs;
    this.#now = options.now;
    this.pending = new PendingWrites({
      retryWindowMs: 4 * this.#leaseMs,
      onEnded: async ({ record, link }) => {
        log('login of %s ended while its refresh result was pending; revoking it', link.name);
        await revokeEnded(link, endedTokens(record), this.#announce);
      },
    });
  }

  /** One refresh of the login under its lease, or the record another worker wrote meanwhile. */
  async run(login: LoginRef, key: string, seen: TokenRecord, urgency: Urgency, span: SpanScope): Promise<TokenRecord> {
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
            const current = await this.reread(login);
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
        const current = await this.reread(login);
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

  /** Another worker refreshed since `seen`: a newer record with another access token (a per-API grant also writes a newer record, keeping the login's token). */
  #isFreshFor(record: TokenRecord, seen: TokenRecord, link: ProviderLink): boolean {
    return record.v > seen.v && record.tokens.accessToken !== seen.tokens.accessToken && !isExpiring(record.tokens, this.#now(), link.provider.refreshLeewayMs);
  }

  /** The login's record as stored, or this process's newer one whose write is pending. */
  async reread({ session, link }: LoginRef): Promise<TokenRecord> {
    const stored = await session.readTokens(link.name);
    const record = stored && (this.pending.newerThan(session.loginKey(link.name), stored) ?? stored);
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
      if (err instanceof TokenEndpointError && err.error === 'invalid_grant') return this.rejected(login, key, current, err, span);
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
    await this.store(login, key, next, held);
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
  async store(login: LoginRef, key: string, next: TokenRecord, held: HeldLease): Promise<void> {
    const { session, link } = login;
    let result;
    try {
      result = await session.commitRefresh(link.name, next);
    } catch (err) {
      if (!(err instanceof SessionUnavailableError)) throw err;
      log('writing the refresh result of %s failed (%s); keeping it and retrying', link.name, err.message);
      this.pending.hold(key, { record: next, session: session.detached(link.name, this.#timeoutMs), link }, held);
      return;
    }
    if (result.kind === 'committed') return;
    // The login ended (logout, re-login) while the token call was in flight: no token outlives it.
    log('login of %s ended during the refresh; revoking the new tokens', link.name);
    await revokeEnded(link, endedTokens(next), this.#announce);
    throw new ReauthenticationRequiredError('The login ended while its tokens were being refreshed; log in again.', OAUTH_CODES.NOT_AUTHENTICATED);
  }

  /** invalid_grant: maybe another worker rotated the token meanwhile; else the login is over. */
  async rejected({ session, link }: LoginRef, key: string, current: TokenRecord, cause: TokenEndpointError, span: SpanScope = NOOP_SPAN): Promise<TokenRecord> {
    const pending = this.pending.newerThan(key, current);
    if (pending) {
      // This process rotated the token already and its write is still pending: not a logout.
      await this.pending.flush(key);
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
