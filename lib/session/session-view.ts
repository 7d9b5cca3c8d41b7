import type { Request } from 'express';
import type { Store } from 'express-session';
import { clearLoginMarker, loginMarker, requireSession, setLoginMarker, type LoginMarker, type OAuthSessionData } from './session-data.js';
import { storeCall } from './store-call.js';
import type { CookieLike } from './token-record.js';

/** What a client needs from "its" session, in a request or in a background job. */
export interface SessionView {
  readonly sessionId: string;
  readonly store: Store;
  readonly cookie: CookieLike;
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

  marker(provider: string): LoginMarker | undefined {
    return loginMarker(this.req.session, provider);
  }

  setMarker(provider: string, marker: LoginMarker): void {
    setLoginMarker(this.#session(), provider, marker);
  }

  clearMarker(provider: string): void {
    const { session } = this.req;
    if (session) clearLoginMarker(session, provider);
  }
}

/**
 * A view of a stored session outside any request (`forSession`, background jobs). Marker changes
 * (a login that ended) stay in this copy: the session itself is written only by requests.
 */
export async function loadJobSession(store: Store, sessionId: string, timeoutMs: number): Promise<SessionView | undefined> {
  const data = await storeCall<{ cookie: CookieLike; oauth?: OAuthSessionData } | null>(timeoutMs, 'read the session', (cb) => store.get(sessionId, cb as never));
  if (!data) return undefined;
  return {
    sessionId,
    store,
    cookie: data.cookie,
    marker: (provider: string): LoginMarker | undefined => loginMarker(data as never, provider),
    setMarker: (provider: string, marker: LoginMarker) => setLoginMarker(data as never, provider, marker),
    clearMarker: (provider: string) => clearLoginMarker(data as never, provider),
  };
}
