import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Store } from 'express-session';
import { resolveConfig } from '../config/resolve.js';
import type { OAuthMiddlewareOptions } from '../config/options.js';
import { OAUTH_CODES, ReauthenticationRequiredError, SessionUnavailableError } from '../errors.js';
import type { OAuthEventEmitter } from '../events.js';
import { contextClassFor, type OAuthRequestContext } from '../client/request-context.js';
import { createCallbackHandler } from './routes/callback.js';
import { createLoginHandler } from './routes/login.js';
import { createLogoutHandler, logoutConfirmForm } from './routes/logout.js';
import { followSessionLifetime } from '../session/record-lifetime.js';
import { Runtime } from './runtime.js';
import { clearLoginMarker, setLoginMarker, type LoginMarker, type OAuthSessionData } from '../session/session-data.js';
import type { SessionView } from '../session/session-view.js';
import { RequestSessionView } from '../session/session-view.js';
import type { CookieLike } from '../session/token-record.js';

type Route = { GET?: RequestHandler; POST?: RequestHandler };

/**
 * A URL that parseurl (Express's `req.path`) splits without its full parser: then `req.path` is
 * group 1. Lets most requests skip the `req.path` getter, which costs microseconds per request
 * because Express gives every `req` its own hidden class.
 */
const PLAIN_PATH = /^(\/[^?#\s]*)(?:\?[^#\s]*)?$/;

export interface OAuthMiddleware extends RequestHandler {
  /** Typed lifecycle events (`login`, `refresh`, `refresh-race-lost`, `logout`, `error`); payloads hold no tokens. */
  readonly events: OAuthEventEmitter;
  /**
   * The same auto-refreshing client outside a request (jobs, webhooks), for a stored session id.
   * The store defaults to the one seen on the first request through the middleware.
   */
  forSession(sessionId: string, options?: { store?: Store }): Promise<OAuthRequestContext>;
}

function jobSessionView(sessionId: string, store: Store, data: { cookie: CookieLike; oauth?: OAuthSessionData }): SessionView {
  return {
    sessionId,
    store,
    cookie: data.cookie,
    marker: (provider: string): LoginMarker | undefined => data.oauth?.p?.[provider],
    setMarker: (provider: string, marker: LoginMarker) => setLoginMarker(data as never, provider, marker),
    clearMarker: (provider: string) => clearLoginMarker(data as never, provider),
  };
}

/**
 * Session cookie settings that break logins or weaken them, reported once (process warning):
 * `sameSite: 'strict'` keeps the cookie off the provider's redirect to the callback, so every
 * login fails; an https app whose cookie is not `secure` sends the session id in clear text.
 */
function warnAboutCookie(cookie: { sameSite?: unknown; secure?: unknown }, appOrigins: ReadonlySet<string>): void {
  if (cookie.sameSite === 'strict' || cookie.sameSite === true) {
    process.emitWarning('express-session cookie has sameSite "strict": browsers will not send it on the provider\'s redirect to your callback, so logins fail. Use sameSite: "lax".', { code: 'OAUTH_COOKIE_SAMESITE' });
  }
  if (!cookie.secure && [...appOrigins].some((o) => o.startsWith('https:'))) {
    process.emitWarning('express-session cookie is not "secure" although your redirect URI is https: set cookie.secure (and app.set("trust proxy", 1) behind a TLS proxy).', { code: 'OAUTH_COOKIE_INSECURE' });
  }
}

/**
 * OAuth 2.0 login (`/login`, callback, `/logout`) and `req.oauth` on every request. Mount it after
 * express-session. Config is validated here: a bad option throws `TypeError` naming its path.
 */
export function oauthMiddleware(options: OAuthMiddlewareOptions): OAuthMiddleware {
  const config = resolveConfig(options);
  const runtime = new Runtime(config);
  const Context = contextClassFor(config.single ? [] : config.providers.keys());
  const first = config.providers.values().next().value!;
  let seenStore: Store | undefined;
  let cookieChecked = false;

  const routes = new Map<string, Route>();
  const addRoute = (path: string | false, method: keyof Route, handler: RequestHandler) => {
    if (path === false) return;
    routes.set(path, { ...routes.get(path), [method]: handler });
  };
  for (const provider of config.providers.values()) {
    addRoute(provider.loginPath, 'GET', createLoginHandler(runtime, provider));
    addRoute(provider.callbackPath, 'GET', createCallbackHandler(runtime, provider));
  }
  addRoute(config.logoutPath, 'POST', createLogoutHandler(runtime));
  addRoute(config.logoutPath, 'GET', logoutConfirmForm);

  function oauth(req: Request, res: Response, next: NextFunction): void {
    req.oauth = new Context(runtime, first, new RequestSessionView(req));
    seenStore ??= req.sessionStore;
    if (!cookieChecked) {
      cookieChecked = true;
      if (req.session) warnAboutCookie(req.session.cookie, config.appOrigins);
      else process.emitWarning('The first request reached oauthMiddleware without req.session: mount express-session before oauthMiddleware() (or the session store is down, which answers 503).', { code: 'OAUTH_NO_SESSION' });
    }
    if (req.session?.oauth?.p) followSessionLifetime(req, config.httpTimeoutMs, Date.now());
    if (routes.size === 0) return next();
    const plain = PLAIN_PATH.exec(req.url);
    if (plain && !routes.has(plain[1] as string)) return next();
    const route = routes.get(req.path);
    if (!route) return next();
    const handler = route[req.method as keyof Route];
    if (!handler) {
      // HEAD included: these routes have side effects (a transaction made or consumed).
      res.set('Allow', Object.keys(route).join(', ')).set('Cache-Control', 'no-store').status(405).end();
      return;
    }
    if (!req.session) return next(new SessionUnavailableError());
    handler(req, res, next);
  }

  async function forSession(sessionId: string, opts: { store?: Store } = {}): Promise<OAuthRequestContext> {
    const store = opts.store ?? seenStore;
    if (!store) throw new TypeError('forSession: no session store known yet; pass { store }.');
    const data = await new Promise<{ cookie: CookieLike; oauth?: OAuthSessionData } | null | undefined>((resolve, reject) => {
      const timer = setTimeout(() => reject(new SessionUnavailableError()), config.httpTimeoutMs);
      store.get(sessionId, (err, sess) => {
        clearTimeout(timer);
        if (err) reject(new SessionUnavailableError(undefined, err));
        else resolve(sess as never);
      });
    });
    if (!data) throw new ReauthenticationRequiredError('No such session.', OAUTH_CODES.NOT_AUTHENTICATED);
    return new Context(runtime, first, jobSessionView(sessionId, store, data));
  }

  return Object.assign(oauth, { events: runtime.events, forSession });
}
