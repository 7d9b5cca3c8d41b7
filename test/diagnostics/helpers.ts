import express from 'express';
import session from 'express-session';
import { oauthErrorHandler, oauthMiddleware, type OAuthMiddlewareOptions } from 'express-oauth2-session';

export const HTML = 'text/html,application/xhtml+xml,*/*;q=0.8';

export interface Warning {
  code: string;
  provider: string | undefined;
  message: string;
}

/**
 * An app as a newcomer writes it: express-session with the given cookie options, the middleware,
 * the error handler; `configure` runs first (trust proxy, env). Collects `warning` and `error`
 * events; process warnings are silenced (each test asserts the events, which carry the same text).
 */
export function newcomerApp(
  oauth: OAuthMiddlewareOptions,
  options: { cookie?: session.CookieOptions; configure?: (app: express.Express) => void; store?: session.Store; routes?: (app: express.Express) => void } = {},
) {
  const app = express();
  options.configure?.(app);
  app.use(session({ store: options.store, secret: 'diagnostics-secret', resave: false, saveUninitialized: false, cookie: options.cookie }));
  const middleware = oauthMiddleware(oauth);
  const warnings: Warning[] = [];
  const errors: Array<{ provider: string | undefined; code: string; status: number }> = [];
  middleware.events.on('warning', (w) => void warnings.push(w));
  middleware.events.on('error', (e) => void errors.push(e));
  app.use(middleware);
  app.get('/session', (req, res) => void res.json({ authenticated: req.oauth.isAuthenticated() }));
  app.get('/session-id', (req, res) => void res.send(req.sessionID));
  options.routes?.(app);
  app.use(oauthErrorHandler());
  return { app, warnings, errors, middleware };
}

/** Silence (and record) process warnings for the duration of a test file. */
export function recordProcessWarnings(): { codes: () => Array<string | undefined>; restore: () => void } {
  const spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  return {
    codes: () => spy.mock.calls.map((call) => (call[1] as { code?: string } | undefined)?.code),
    restore: () => spy.mockRestore(),
  };
}
