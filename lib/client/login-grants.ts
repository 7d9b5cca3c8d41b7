import { debugFor, tokenId } from '../debug.js';
import { TimeoutError, TokenEndpointError } from '../errors.js';
import type { TokenRecord } from '../session/token-record.js';
import { HeldLease } from './held-lease.js';
import type { LoginRef, Refresher } from './refresh.js';
import { revokeEnded } from './revoke.js';
import type { TokenEvents } from './token-events.js';

const log = debugFor('refresh');

/**
 * A grant of the token lifecycle other than the login's own refresh that writes the login's
 * record: a per-API token (refresh grant with `resource`, RFC 8707) or an exchanged token (RFC 8693).
 */
export interface LoginGrant<T> {
  /** Tells this grant's flights apart within one login (the API's token key). */
  readonly key: string;
  /** Whether the grant sends the login's refresh token (then `invalid_grant` may mean another worker rotated it). */
  readonly spendsRefreshToken: boolean;
  /** What `record` already gives (another request or process obtained it), else undefined. */
  have(record: TokenRecord): T | undefined;
  /** Obtain with `current` under the login's lease: the next record to store, what it gives, and what to revoke if it is not kept. */
  obtain(current: TokenRecord): Promise<{ next: TokenRecord; value: T; issued: { accessToken: string; refreshToken?: string } }>;
}

/** The record after a grant, and what the grant gave. */
export interface Obtained<T> {
  record: TokenRecord;
  value: T;
}

/**
 * Runs a login's other grants through the same machinery as its refresh (refresh.ts): one flight
 * per login and grant in this process, queued behind every other grant of the login that spends
 * its refresh token (`Refresher.queue`), under the same cross-process lease, with the same store
 * step (tombstone check, pending writes). Waiters re-read the record instead of calling the token
 * endpoint again, so N requests of M APIs after expiry make exactly M token calls, in any number
 * of processes sharing the lock.
 */
export class LoginGrants {
  readonly #inflight = new Map<string, Promise<Obtained<unknown>>>();

  constructor(
    private readonly refresher: Refresher,
    private readonly announce: TokenEvents,
  ) {}

  obtain<T>(login: LoginRef, grant: LoginGrant<T>): Promise<Obtained<T>> {
    const loginKey = login.session.loginKey(login.link.name);
    const flightKey = `${loginKey}\n${grant.key}`;
    const running = this.#inflight.get(flightKey);
    if (running) return running as Promise<Obtained<T>>;
    const flight = this.refresher.queue.run(loginKey, () => this.#underLock(login, loginKey, grant)).finally(() => this.#inflight.delete(flightKey));
    this.#inflight.set(flightKey, flight);
    return flight;
  }

  async #underLock<T>(login: LoginRef, loginKey: string, grant: LoginGrant<T>): Promise<Obtained<T>> {
    const { session } = login;
    const { lock, leaseMs, timeoutMs, now } = this.refresher.lockSettings;
    const deadline = now() + 2 * leaseMs;
    for (;;) {
      const lease = await lock.acquire(loginKey, leaseMs, { timeoutMs: session.remainingMs('take the refresh lock') });
      if (lease) {
        const held = new HeldLease(lease, leaseMs, timeoutMs);
        try {
          const current = await this.refresher.reread(login);
          const have = grant.have(current);
          if (have !== undefined) return { record: current, value: have };
          const obtained = await this.#obtain(login, loginKey, grant, current, held);
          if (obtained) return obtained;
        } finally {
          if (!held.handedOff) await held.release();
        }
      } else {
        await lock.waitForRelease(loginKey, Math.min(leaseMs, session.remainingMs('wait for the refresh lock')));
        const current = await this.refresher.reread(login);
        const have = grant.have(current);
        if (have !== undefined) return { record: current, value: have };
      }
      if (now() > deadline) throw new TimeoutError('Timed out waiting for another process to obtain the token.');
    }
  }

  /** One grant under the lease; undefined when another worker changed the record meanwhile (go round again). */
  async #obtain<T>(login: LoginRef, loginKey: string, grant: LoginGrant<T>, current: TokenRecord, held: HeldLease): Promise<Obtained<T> | undefined> {
    const { session, link } = login;
    let result;
    try {
      result = await grant.obtain(current);
    } catch (err) {
      if (!(err instanceof TokenEndpointError) || err.error !== 'invalid_grant' || !grant.spendsRefreshToken) throw err;
      // Another worker rotated the refresh token (a newer record: try again with it), or the login is over (throws).
      await this.refresher.rejected(login, loginKey, current, err);
      return undefined;
    }
    if (!(await held.stillHeld(session.budgetLeftMs('check the refresh lease')))) {
      const latest = await session.readTokens(link.name).catch(() => undefined);
      if (latest && latest.v > current.v) {
        log('the lease of %s lapsed during a %s grant and another worker wrote; revoking this result', link.name, grant.key);
        const { refreshToken } = result.issued;
        const revokeRefresh = refreshToken !== undefined && refreshToken !== current.tokens.refreshToken ? { refreshToken } : {};
        await revokeEnded(link, { tokens: { accessToken: result.issued.accessToken, tokenType: 'bearer', ...revokeRefresh } }, this.announce);
        return undefined;
      }
    }
    await this.refresher.store(login, loginKey, result.next, held);
    log('obtained %s token for %s (token %s)', grant.key, link.name, tokenId(result.issued.accessToken));
    return { record: result.next, value: result.value };
  }
}
