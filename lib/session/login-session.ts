import type { Request } from 'express';
import type { Store } from 'express-session';
import { PerCallDeadline, RequestBudget, type Deadline } from './deadline.js';
import { clearLoginMarker, loginMarker, requireSession, storedMarker, type LiveSession } from './session-data.js';
import type { LoginIdentity, LoginMarker, StoredOAuthData } from './session-format.js';
import { unindexSession } from './logout-index.js';
import { storeCall } from './store-call.js';
import { cookieExpiry, cookieUntil, recordCookie, recordKey, type CookieLike, type TokenRecord } from './token-record.js';
import { endedTokens, TokenRecords, type CommitResult, type EndedTokens } from './token-records.js';
import { tombstoneTtlMs } from './tombstone.js';

/** An express-session store, as the public API names it (`forSession({ store })`, the test kit). */
export type SessionStore = Store;

/**
 * One session's logins as lib/client sees them: the login markers of the session and the token
 * records in the store, bound once to that session's store and the deadline. This is the only
 * way code outside lib/session/ reads or changes login state; it exposes no store.
 */
export abstract class LoginSession {
  #records: TokenRecords | undefined;
  /** Logins are indexed for back-channel logout (logout-index.ts): an ended login leaves its entries. */
  #logoutIndexed = false;

  #deadline: Deadline | undefined;

  /** A deadline, or the ms of a request's budget (made on the first store call: nothing per request). */
  constructor(private readonly deadlineOrBudgetMs: Deadline | number) {}

  private get deadline(): Deadline {
    const given = this.deadlineOrBudgetMs;
    return (this.#deadline ??= typeof given === 'number' ? new RequestBudget(given) : given);
  }

  abstract readonly sessionId: string;
  /** The stored marker of `provider`, read in place (no allocation: every request asks). */
  protected abstract stored(provider: string): ReturnType<typeof storedMarker>;
  /** The login marker of `provider`, decoded, if the session holds a well-formed one (no store I/O). */
  abstract marker(provider: string): LoginMarker | undefined;
  /** Forget `provider`'s marker in this session (its login ended). */
  abstract clearMarker(provider: string): void;
  /** Throws 503 `SESSION_UNAVAILABLE` (or 500 without express-session) when there is no session. */
  abstract assertAvailable(): void;
  protected abstract store(): Store;
  protected abstract sessionCookie(): CookieLike;

  /** True when the session has a login marker for this provider (no allocation, no store I/O). */
  hasLogin(provider: string): boolean {
    return this.stored(provider) !== undefined;
  }

  /** `sub` and claims of the login, read in place (`req.oauth.user` reads them on every request). */
  identity(provider: string): LoginIdentity | undefined {
    return this.stored(provider);
  }

  /** The key single-flight refreshes and the cross-process lock use for one login. */
  loginKey(provider: string): string {
    return recordKey(this.sessionId, provider);
  }

  readTokens(provider: string): Promise<TokenRecord | undefined> {
    return this.#bound().read(this.sessionId, provider);
  }

  /** Write a refreshed record; `ended` when the login ended meanwhile (the write was undone: revoke what it held). */
  commitRefresh(provider: string, next: TokenRecord): Promise<CommitResult> {
    return this.#bound().commit(this.sessionId, provider, next, this.#recordCookie(provider));
  }

  /** The provider rejected the login's refresh token: forget the record. */
  forgetTokens(provider: string): Promise<void> {
    return this.#bound().delete(this.sessionId, provider);
  }

  /**
   * End one provider's login in this session: tombstone its record (a refresh in flight will not
   * write it back), delete it, clear the marker. Returns the tokens to revoke, with the DPoP key.
   */
  async endLogin(provider: string): Promise<EndedTokens | undefined> {
    const marker = this.stored(provider);
    if (!marker) return undefined;
    const ttl = tombstoneTtlMs(this.sessionCookie().originalMaxAge);
    const sessionId = this.sessionId;
    const record = await this.#bound().end(sessionId, provider, ttl);
    this.clearMarker(provider);
    // Best effort: an index entry left behind expires, and a back-channel logout skips it.
    if (this.#logoutIndexed) await unindexSession(this.store(), sessionId, { [provider]: marker }, this.budgetLeftMs('update the logout index'), true);
    return record && endedTokens(record);
  }

  /** The ms a lock call of this session's request may take (the same budget as its store calls). */
  remainingMs(what: string): number {
    return this.deadline.remainingMs(what);
  }

  /**
   * A copy of this session's view of one login for work that outlives the request (a refresh
   * result whose write is retried after the request answered): the same store, the marker and
   * cookie as they are now, and the whole `timeoutMs` for each call.
   */
  detached(provider: string, timeoutMs: number): LoginSession {
    const marker = this.stored(provider);
    const data: StoredSession = { cookie: this.sessionCookie(), ...(marker ? { oauth: { p: { [provider]: marker } } } : {}) };
    return new StoredLoginSession(this.sessionId, data, this.store(), new PerCallDeadline(timeoutMs));
  }

  /** Called by the login store when it indexes logins for back-channel logout. */
  withLogoutIndex(indexed: boolean): this {
    this.#logoutIndexed = indexed;
    return this;
  }

  /** What is left of the budget, 0 when nothing is (for best-effort calls, which then fail at once). */
  budgetLeftMs(what: string): number {
    try {
      return this.deadline.remainingMs(what);
    } catch {
      return 0;
    }
  }

  #bound(): TokenRecords {
    return (this.#records ??= new TokenRecords(this.store(), this.deadline));
  }

  /** Rewrites keep the record's current expiry (the marker's `recordExpiresAt`), else session expiry + slack. */
  #recordCookie(provider: string): CookieLike {
    const cookie = this.sessionCookie();
    const exp = this.marker(provider)?.recordExpiresAt;
    return exp === undefined ? recordCookie(cookieExpiry(cookie), cookie.originalMaxAge) : cookieUntil(exp, cookie.originalMaxAge);
  }
}

/** A live view of `req.session` (which may be regenerated during the request). */
export class RequestLoginSession extends LoginSession {
  constructor(
    private readonly req: Request,
    timeoutMs: number,
  ) {
    super(timeoutMs);
  }

  get sessionId(): string {
    return requireSession(this.req).id;
  }

  protected stored(provider: string): ReturnType<typeof storedMarker> {
    return storedMarker(this.req.session as LiveSession | undefined, provider);
  }

  marker(provider: string): LoginMarker | undefined {
    return loginMarker(this.req.session as LiveSession | undefined, provider);
  }

  clearMarker(provider: string): void {
    const session = this.req.session as LiveSession | undefined;
    if (session) clearLoginMarker(session, provider);
  }

  assertAvailable(): void {
    requireSession(this.req);
  }

  protected store(): Store {
    requireSession(this.req);
    return this.req.sessionStore;
  }

  protected sessionCookie(): CookieLike {
    return requireSession(this.req).cookie as unknown as CookieLike;
  }
}

type StoredSession = { cookie: CookieLike; oauth?: StoredOAuthData };

/**
 * A stored session outside any request (`forSession`, background jobs). Marker changes (a login
 * that ended) stay in this copy: the session itself is written only by requests.
 */
class StoredLoginSession extends LoginSession {
  constructor(
    readonly sessionId: string,
    private readonly data: StoredSession,
    private readonly sessionStore: Store,
    deadline: Deadline,
  ) {
    super(deadline);
  }

  protected stored(provider: string): ReturnType<typeof storedMarker> {
    return storedMarker(this.data as unknown as LiveSession, provider);
  }

  marker(provider: string): LoginMarker | undefined {
    return loginMarker(this.data as unknown as LiveSession, provider);
  }

  clearMarker(provider: string): void {
    clearLoginMarker(this.data as unknown as LiveSession, provider);
  }

  assertAvailable(): void {}

  protected store(): Store {
    return this.sessionStore;
  }

  protected sessionCookie(): CookieLike {
    return this.data.cookie;
  }
}

/** The logins of a stored session, or undefined when the store has no such session. */
export async function loadStoredLoginSession(store: Store, sessionId: string, timeoutMs: number): Promise<LoginSession | undefined> {
  const data = await storeCall<StoredSession | null>(timeoutMs, 'read the session', (cb) => store.get(sessionId, cb as never));
  return data ? new StoredLoginSession(sessionId, data, store, new PerCallDeadline(timeoutMs)) : undefined;
}
