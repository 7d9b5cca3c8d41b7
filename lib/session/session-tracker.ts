import type { Request } from 'express';
import type { Store } from 'express-session';
import { followSessionLifetime } from './record-lifetime.js';
import { markSessionOutage, requireSession, type LiveSession } from './session-data.js';
import { guardSessionSaves, installStoreDeadlines } from './host-patches.js';

/**
 * Session cookie settings that break logins or weaken them, reported once (process warning):
 * `sameSite: 'strict'` keeps the cookie off the provider's redirect to the callback, so every
 * login fails; an https app whose cookie is not `secure` sends the session id in clear text.
 */
function warnAboutCookie(cookie: { sameSite?: unknown; secure?: unknown }, appOrigins: ReadonlySet<string>): void {
  if (cookie.sameSite === 'strict' || cookie.sameSite === true) {
    process.emitWarning('express-session cookie has sameSite "strict": browsers will not send it on the provider\'s redirect to your callback, so logins fail. Use sameSite: "lax".', {
      code: 'OAUTH_COOKIE_SAMESITE',
    });
  }
  if (!cookie.secure && [...appOrigins].some((o) => o.startsWith('https:'))) {
    process.emitWarning('express-session cookie is not "secure" although your redirect URI is https: set cookie.secure (and app.set("trust proxy", 1) behind a TLS proxy).', {
      code: 'OAUTH_COOKIE_INSECURE',
    });
  }
}

/**
 * What the middleware does with express-session on each request: on the first one, give the
 * store its deadlines (host-patches.ts), guard session saves against ended logins and check the cookie settings;
 * on every one, keep token records alive as long as their session (no I/O for anonymous requests).
 */
export class SessionTracker {
  #store: Store | undefined;
  #first = true;

  constructor(
    private readonly timeoutMs: number,
    private readonly appOrigins: ReadonlySet<string>,
  ) {}

  /**
   * The session store seen on requests (for `forSession` without an explicit store). Once seen,
   * a request without `req.session` means the store is down (503), not that express-session is
   * missing (500): this instance's state, not the process's.
   */
  get store(): Store | undefined {
    return this.#store;
  }

  observe(req: Request): void {
    if (this.#first) this.#setUp(req);
    if (this.#store === undefined && req.sessionStore) this.#store = req.sessionStore;
    const session = req.session as LiveSession | undefined;
    if (session === undefined) {
      if (this.#store !== undefined) markSessionOutage(req);
    } else if (session.oauth?.p) followSessionLifetime(req, this.timeoutMs, Date.now());
  }

  /** `req.session`, or 500 (express-session not mounted) / 503 (its store is down). */
  require(req: Request): LiveSession {
    return requireSession(req, this.#store !== undefined);
  }

  #setUp(req: Request): void {
    this.#first = false;
    if (req.sessionStore) installStoreDeadlines(req.sessionStore, this.timeoutMs);
    if (req.session) {
      guardSessionSaves(req.session, this.timeoutMs);
      warnAboutCookie(req.session.cookie, this.appOrigins);
    } else if (!req.sessionStore) {
      process.emitWarning('The first request reached oauthMiddleware without req.session: mount express-session before oauthMiddleware().', { code: 'OAUTH_NO_SESSION' });
    }
  }
}
