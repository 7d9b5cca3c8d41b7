import type { Request } from 'express';
import type { Store } from 'express-session';
import { clearLoginMarker, loginMarker, requireSession, setLoginMarker, storedMarker, type LiveSession } from './session-data.js';
import type { LoginIdentity, LoginMarker, StoredOAuthData } from './session-format.js';
import { storeCall } from './store-call.js';
import type { CookieLike } from './token-record.js';

/** What a client needs from "its" session, in a request or in a background job. */
export interface SessionView {
  readonly sessionId: string;
  readonly store: Store;
  readonly cookie: CookieLike;
  /** True when the session has a login marker for this provider. No allocation (every request asks). */
  hasLogin(provider: string): boolean;
  /** `sub` and claims of the login, read in place (no allocation: `req.oauth.user` reads them per request). */
  identity(provider: string): LoginIdentity | undefined;
  /** The whole login marker, decoded. */
  marker(provider: string): LoginMarker | undefined;
  setMarker(provider: string, marker: LoginMarker): void;
  clearMarker(provider: string): void;
}

/** A live view of `req.session` (which may be regenerated during the request). */
export class RequestSessionView implements SessionView {
  constructor(private readonly req: Request) {}

  #session() {
    return requireSession(this.req);
  }

  get sessionId(): string {
    return this.#session().id;
  }

  get store(): Store {
    this.#session();
    return this.req.sessionStore;
  }

  get cookie(): CookieLike {
    return this.#session().cookie as unknown as CookieLike;
  }

  hasLogin(provider: string): boolean {
    return storedMarker(this.req.session as LiveSession | undefined, provider) !== undefined;
  }

  identity(provider: string): LoginIdentity | undefined {
    return storedMarker(this.req.session as LiveSession | undefined, provider);
  }

  marker(provider: string): LoginMarker | undefined {
    return loginMarker(this.req.session as LiveSession | undefined, provider);
  }

  setMarker(provider: string, marker: LoginMarker): void {
    setLoginMarker(this.#session(), provider, marker);
  }

  clearMarker(provider: string): void {
    const session = this.req.session as LiveSession | undefined;
    if (session) clearLoginMarker(session, provider);
  }
}

/** The login marker of `provider` in this request's session, decoded (requireAuth's rules read it). */
export function requestLoginMarker(req: Request, provider: string): LoginMarker | undefined {
  return loginMarker(req.session as LiveSession | undefined, provider);
}

/**
 * A view of a stored session outside any request (`forSession`, background jobs). Marker changes
 * (a login that ended) stay in this copy: the session itself is written only by requests.
 */
export async function loadJobSession(store: Store, sessionId: string, timeoutMs: number): Promise<SessionView | undefined> {
  const data = await storeCall<{ cookie: CookieLike; oauth?: StoredOAuthData } | null>(timeoutMs, 'read the session', (cb) => store.get(sessionId, cb as never));
  if (!data) return undefined;
  const session = data as unknown as LiveSession;
  return {
    sessionId,
    store,
    cookie: data.cookie,
    hasLogin: (provider: string) => storedMarker(session, provider) !== undefined,
    identity: (provider: string): LoginIdentity | undefined => storedMarker(session, provider),
    marker: (provider: string): LoginMarker | undefined => loginMarker(session, provider),
    setMarker: (provider: string, marker: LoginMarker) => setLoginMarker(session, provider, marker),
    clearMarker: (provider: string) => clearLoginMarker(session, provider),
  };
}
