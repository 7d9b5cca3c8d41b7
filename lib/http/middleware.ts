import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { SessionStore } from '../session/login-session.js';
import { ProviderLink } from '../client/provider-link.js';
import { ApiRoutes } from '../client/api-routes.js';
import type { ClientDeps } from '../client/provider-client.js';
import { Refresher } from '../client/refresh.js';
import { TokenEvents } from '../client/token-events.js';
import { TokenLifecycle } from '../client/token-lifecycle.js';
import { contextClassFor, type OAuthRequestContext } from '../client/request-context.js';
import { OutboundTransport } from '../client/transport.js';
import type { OAuthMiddlewareOptions } from '../config/options.js';
import { resolveConfig } from '../config/resolve.js';
import { OAUTH_CODES, ReauthenticationRequiredError } from '../errors.js';
import { OAuthEventEmitter } from '../events.js';
import { Diagnostics } from '../diagnostics.js';
import { LoginDiagnostics } from './login-diagnostics.js';
import { warnAtStartup } from './startup-checks.js';
import { LoginStore } from '../session/login-store.js';
import { createTelemetry } from '../telemetry/open-telemetry.js';
import { SessionTracker } from '../session/session-tracker.js';
import { createBackchannelLogoutHandler } from './routes/backchannel-logout.js';
import { createCallbackHandler } from './routes/callback.js';
import { createFrontchannelLogoutHandler } from './routes/frontchannel-logout.js';
import { createFormPostCallbackHandler, formPostOnlyCallback } from './routes/form-post-callback.js';
import { createLoginHandler } from './routes/login.js';
import { createLogoutHandler, logoutConfirmForm } from './routes/logout.js';
import { installLazyClient } from '../session/host-patches.js';
import { createLoginStarter } from './start-login.js';
import { PostLogoutReturn } from './post-logout.js';
import { noStore, pathOf } from './respond.js';

type Route = { GET?: RequestHandler; POST?: RequestHandler };

export interface OAuthMiddleware extends RequestHandler {
  /** Typed lifecycle events (`login`, `refresh`, `refresh-race-lost`, `logout`, `error`); payloads hold no tokens. */
  readonly events: OAuthEventEmitter;
  /**
   * The same auto-refreshing client outside a request (jobs, webhooks), for a stored session id.
   * The store defaults to the one seen on the first request through the middleware.
   */
  forSession(sessionId: string, options?: { store?: SessionStore }): Promise<OAuthRequestContext>;
  /**
   * Graceful shutdown: wait until no refresh result is still being written to the store (after a
   * store failure the rotated tokens are retried for up to four refresh-lock leases, see docs/redis-and-scaling.md), then close this instance's outbound keep-alive connections
   * (its undici pool; nothing to close with the `fetch` option). A later request opens new ones.
   */
  close(): Promise<void>;
}

/**
 * OAuth 2.0 login (`/login`, callback, `/logout`) and `req.oauth` on every request. Mount it after
 * express-session. Config is validated here: a bad option throws `TypeError` naming its path.
 */
export function oauthMiddleware(options: OAuthMiddlewareOptions): OAuthMiddleware {
  const config = resolveConfig(options);
  const { httpTimeoutMs: timeoutMs } = config;
  const events = new OAuthEventEmitter();
  const diagnostics = new Diagnostics(
    events,
    [...config.providers.values()].map((p) => p.clientSecret),
  );
  // Everything this instance caches (transport pool, discovery, JWKS, DPoP, grant objects) is
  // owned here or by its provider links: nothing is shared with another instance.
  const telemetry = createTelemetry(config.telemetry);
  const transport = new OutboundTransport(config.fetch, timeoutMs, telemetry);
  const apis = new ApiRoutes(config.apis.values());
  // A provider with a TLS client certificate (RFC 8705) gets a transport that always presents it.
  const transports = new Map(
    [...config.providers.values()].map((p) => [p.name, p.tlsClientCertificate ? new OutboundTransport(undefined, timeoutMs, telemetry, p.tlsClientCertificate) : transport] as const),
  );
  const links = new Map([...config.providers.values()].map((p) => [p.name, new ProviderLink(p, transports.get(p.name)!, timeoutMs, apis.forProvider(p.name))] as const));
  // Provider-sent logout (back- or front-channel) finds sessions by their logins' sid/sub: index them.
  const logins = new LoginStore(timeoutMs, config.lock, config.backchannelLogoutPath !== false || config.frontchannelLogoutPath !== false);
  const announce = new TokenEvents(events, config.onTokens, telemetry);
  const refresher = new Refresher({ lock: config.lock, timeoutMs, announce, idpLogout: config.idpLogout, onFailure: (err, provider) => diagnostics.providerFailed(err, provider, 'refresh') });
  const lifecycle = new TokenLifecycle({ logins, announce, refresher, idpLogout: config.idpLogout });
  const loginChecks = new Map([...links.values()].map((link) => [link.name, new LoginDiagnostics(diagnostics, link.provider)] as const));
  const loginStarters = new Map([...links.values()].map((link) => [link.name, createLoginStarter(link, logins, config.postLoginRedirect, loginChecks.get(link.name))] as const));
  const deps: ClientDeps = { lifecycle, loginStarters, onRefreshFailure: config.onRefreshFailure, apis };
  const Context = contextClassFor(config.single ? [] : links.keys());
  const first = links.values().next().value!;
  const sessions = new SessionTracker(timeoutMs, config.appOrigins);

  warnAtStartup(options, config, diagnostics);

  const routes = new Map<string, Route>();
  const addRoute = (path: string | false, method: keyof Route, handler: RequestHandler, provider?: string) => {
    if (path === false) return;
    // A route's failure is an `error` event, and a provider failure is logged with its real reason (once per cause).
    const reported: RequestHandler = (req, res, next) =>
      handler(req, res, (err?: unknown) => {
        if (err !== undefined) diagnostics.routeFailed(err, provider, `${method} ${path}`);
        next(err);
      });
    routes.set(path, { ...routes.get(path), [method]: reported });
  };
  for (const link of links.values()) {
    addRoute(link.provider.loginPath, 'GET', createLoginHandler(loginStarters.get(link.name)!), link.name);
    if (link.provider.responseMode === 'form_post') {
      addRoute(link.provider.callbackPath, 'POST', createFormPostCallbackHandler(link, logins, lifecycle, timeoutMs), link.name);
      addRoute(link.provider.callbackPath, 'GET', formPostOnlyCallback(), link.name);
    } else addRoute(link.provider.callbackPath, 'GET', createCallbackHandler(link, logins, lifecycle, loginChecks.get(link.name)), link.name);
  }
  const postLogout = new PostLogoutReturn(config);
  const landingPath = config.idpLogout ? postLogout.path : undefined;
  addRoute(config.logoutPath, 'POST', createLogoutHandler(links.values(), logins, lifecycle, config, postLogout));
  addRoute(config.logoutPath, 'GET', logoutConfirmForm(links.values(), config.idpLogout));
  addRoute(config.frontchannelLogoutPath, 'GET', createFrontchannelLogoutHandler(links.values(), lifecycle));
  addRoute(config.backchannelLogoutPath, 'POST', createBackchannelLogoutHandler(links.values(), logins, lifecycle, { endSession: config.backchannelLogoutEndsSession, timeoutMs }));

  const makeClient = (req: Request): OAuthRequestContext => new Context(deps, links, first, logins.forRequest(req));
  let lazyProto: object | undefined;

  function oauth(req: Request, res: Response, next: NextFunction): void {
    const proto = Object.getPrototypeOf(req) as object;
    if (proto !== lazyProto) {
      if (installLazyClient(proto, makeClient)) lazyProto = proto;
      else req.oauth = makeClient(req);
    }
    sessions.observe(req);
    if (routes.size === 0 && landingPath === undefined) return next();
    const path = pathOf(req.url);
    // The provider's redirect back after idpLogout: handled only with its cookie, else the app's page.
    if (path === landingPath && req.method === 'GET' && postLogout.land(req, res)) return;
    const route = routes.get(path);
    if (!route) return next();
    const handler = route[req.method as keyof Route];
    if (!handler) {
      // HEAD included: these routes have side effects (a transaction made or consumed).
      res.setHeader('Allow', Object.keys(route).join(', '));
      noStore(res);
      res.statusCode = 405;
      res.end();
      return;
    }
    try {
      sessions.require(req);
    } catch (err) {
      return next(err);
    }
    handler(req, res, next);
  }

  async function forSession(sessionId: string, opts: { store?: SessionStore } = {}): Promise<OAuthRequestContext> {
    const store = opts.store ?? sessions.store;
    if (!store) throw new TypeError('forSession: no session store known yet; pass { store }.');
    const session = await logins.forStoredSession(store, sessionId);
    if (!session) throw new ReauthenticationRequiredError('No such session.', OAUTH_CODES.NOT_AUTHENTICATED);
    return new Context(deps, links, first, session);
  }

  async function close(): Promise<void> {
    await lifecycle.idle();
    await Promise.all([...new Set(transports.values())].map((t) => t.close()));
  }

  return Object.assign(oauth, { events, forSession, close });
}
