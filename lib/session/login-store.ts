import type { Request } from 'express';
import type { Store } from 'express-session';
import type { OriginalIdTokenClaims } from '../protocol/id-token.js';
import type { TokenSet } from '../protocol/token-set.js';
import type { RefreshLock } from './lock.js';
import { abandonPending, addTransaction, requireSession, takeAbandonedLogin, type AbandonedLogin, type LiveSession, type LoginMarker, type LoginTransaction } from './session-data.js';
import type { SessionView } from './session-view.js';
import { sessionCookieToClear, type SessionCookieToClear } from './session-cookie.js';
import { storeCall } from './store-call.js';
import { cookieExpiry, deleteRecord, readRecord, recordCookie, recordKey, writeRecord, type CookieLike, type TokenRecord } from './token-record.js';
import { TransactionClaims, type ClaimResult } from './transactions.js';
import { guardSessionSaves, recordEndKey, saveLiveSession, sessionEndKey, tombstoneTtlMs, writeTombstone } from './tombstone.js';

/** The record cookie for the session of this request (its expiry plus slack). */
function cookieOf(session: LiveSession): CookieLike {
  const { cookie } = session;
  return recordCookie(cookie.expires ? cookie.expires.getTime() : undefined, cookie.originalMaxAge);
}

/** What `completeLogin` writes for one provider. */
export interface NewLogin {
  provider: string;
  /** As stored: with the raw ID token only when it is kept (record-format.ts `withIdToken`). */
  tokens: TokenSet;
  idTokenClaims?: OriginalIdTokenClaims;
  marker: LoginMarker;
}

/**
 * The one module that writes login state: pending transactions, login markers, token records
 * and logout tombstones. Routes and clients call these operations; nothing else touches
 * `req.session`, `req.sessionStore` or a store.
 */
export class LoginStore {
  readonly #claims: TransactionClaims;

  constructor(
    private readonly timeoutMs: number,
    lock: RefreshLock,
  ) {
    this.#claims = new TransactionClaims(lock);
  }

  /** Record a new login transaction in this session and save it before the redirect. */
  async begin(req: Request, state: string, tx: LoginTransaction): Promise<void> {
    const session = requireSession(req);
    guardSessionSaves(session, this.timeoutMs);
    addTransaction(session, state, tx, tx.t);
    await saveLiveSession(session, this.timeoutMs);
  }

  /** Where a tab whose login was abandoned by another tab's completed login should go (single use). */
  abandonedLogin(req: Request, state: string): AbandonedLogin | undefined {
    return takeAbandonedLogin(requireSession(req), state, Date.now());
  }

  /** Claim the transaction of a callback's `state`: once, atomically, only for its own provider. */
  claim(req: Request, state: string, provider: string, code: string): Promise<ClaimResult> {
    return this.#claims.claim(requireSession(req), state, provider, code, Date.now());
  }

  /**
   * Finish a login: end the pre-login session (tombstone, so no in-flight request writes it back
   * with its pending transactions), regenerate the session id without any pending transaction,
   * move the other providers' logins over, write the new token record, save. Returns the new
   * session id and the tokens of a previous login with the same provider (the caller revokes them).
   */
  async completeLogin(req: Request, login: NewLogin): Promise<{ previous: TokenSet | undefined; sessionId: string }> {
    const session = requireSession(req);
    const { sessionStore: store } = req;
    const oldId = session.id;
    const ttl = tombstoneTtlMs(session.cookie.originalMaxAge);
    const markers: Record<string, LoginMarker> = { ...session.oauth?.p };
    const abandoned = abandonPending(session, Date.now());
    await writeTombstone(store, sessionEndKey(oldId), ttl, this.timeoutMs);
    let previous: TokenRecord | undefined;
    if (markers[login.provider]) previous = await this.#endRecord(store, recordKey(oldId, login.provider), ttl);
    delete markers[login.provider];
    await storeCall(this.timeoutMs, 'regenerate the session', (cb) => session.regenerate(cb));
    const fresh = requireSession(req);
    const cookie = cookieOf(fresh);
    const expiry = cookieExpiry(cookie);
    for (const name of Object.keys(markers)) {
      const moved = await this.#endRecord(store, recordKey(oldId, name), ttl);
      if (!moved) {
        delete markers[name];
        continue;
      }
      await writeRecord(store, recordKey(fresh.id, name), moved, cookie, this.timeoutMs);
      markers[name] = { ...markers[name]!, exp: expiry };
    }
    const marker = expiry === undefined ? login.marker : { ...login.marker, exp: expiry };
    const record: TokenRecord = { v: 1, tokens: login.tokens, ...(login.idTokenClaims ? { idTokenClaims: login.idTokenClaims } : {}) };
    await writeRecord(store, recordKey(fresh.id, login.provider), record, cookie, this.timeoutMs);
    fresh.oauth = { p: { ...markers, [login.provider]: marker } };
    if (abandoned) fresh.oauth.x = abandoned;
    await saveLiveSession(fresh, this.timeoutMs);
    return { previous: previous?.tokens, sessionId: fresh.id };
  }

  /**
   * A duplicate of a callback that another request completed: continue in the session that login
   * produced, so this response too carries the logged-in session cookie. Mirrors how
   * express-session itself loads a session (`store.createSession`).
   */
  async adoptSession(req: Request, sessionId: string): Promise<boolean> {
    const store = req.sessionStore;
    const data = await storeCall<Record<string, unknown> | null>(this.timeoutMs, 'read the session', (cb) => store.get(sessionId, cb as never));
    if (!data) return false;
    req.sessionID = sessionId;
    store.createSession(req, data as never);
    return true;
  }

  /**
   * End one provider's login in this session: tombstone its record (a refresh in flight will not
   * write it back), delete it, clear the marker. Returns the tokens to revoke.
   */
  async endLogin(view: SessionView, provider: string): Promise<TokenSet | undefined> {
    if (!view.marker(provider)) return undefined;
    const ttl = tombstoneTtlMs(view.cookie.originalMaxAge);
    const record = await this.#endRecord(view.store, recordKey(view.sessionId, provider), ttl);
    view.clearMarker(provider);
    return record?.tokens;
  }

  /**
   * End the whole session: tombstone first (no concurrent save brings it back), then destroy.
   * Returns the session cookie for the caller to clear in the browser.
   */
  async endSession(req: Request): Promise<SessionCookieToClear | undefined> {
    const session = requireSession(req);
    const cookie = sessionCookieToClear(req);
    await writeTombstone(req.sessionStore, sessionEndKey(session.id), tombstoneTtlMs(session.cookie.originalMaxAge), this.timeoutMs);
    await storeCall(this.timeoutMs, 'destroy the session', (cb) => session.destroy(cb));
    return cookie;
  }

  async #endRecord(store: Store, key: string, ttlMs: number): Promise<TokenRecord | undefined> {
    await writeTombstone(store, recordEndKey(key), ttlMs, this.timeoutMs);
    const record = await readRecord(store, key, this.timeoutMs);
    if (record) await deleteRecord(store, key, this.timeoutMs);
    return record;
  }
}
