import type { Request } from 'express';
import type { Store } from 'express-session';
import { SessionUnavailableError } from '../errors.js';
import { clearLoginMarker, loginMarker, setLoginMarker, type LoginMarker } from './session-data.js';
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
    const { session } = this.req;
    if (!session || !this.req.sessionStore) throw new SessionUnavailableError();
    return session;
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
