import express from 'express';
import session from 'express-session';
import { oauthErrorHandler, oauthMiddleware, requireAuth, type OAuthMiddlewareOptions } from 'express-oauth2-session';
import type { TestAuthorizationServer } from './authorization-server';

export const REDIRECT_URI = 'http://127.0.0.1:3000/callback';

/** The test provider's `rp-basic` options (rotating refresh tokens), without RP-initiated logout. */
export function providerOptions(as: TestAuthorizationServer, overrides: Record<string, unknown> = {}): OAuthMiddlewareOptions {
  return as.providerOptions({ endSessionUrl: undefined, redirectUri: REDIRECT_URI, ...overrides });
}

export interface TestAppOptions {
  store?: session.Store;
  oauth: OAuthMiddlewareOptions;
  /** Extra routes, added after the middleware and before the error handler. */
  routes?: (app: express.Express) => void;
}

/** express-session (MemoryStore by default) + oauthMiddleware + probe routes. */
export function createTestApp(options: TestAppOptions) {
  const app = express();
  const store = options.store ?? new session.MemoryStore();
  app.use(session({ store, secret: 'test-session-secret', resave: false, saveUninitialized: false }));
  const oauth = oauthMiddleware(options.oauth);
  app.use(oauth);
  app.get('/session', (req, res) => {
    res.json({ authenticated: req.oauth.isAuthenticated(), user: req.oauth.user ?? null, sessionId: req.sessionID });
  });
  app.get('/me', requireAuth(), async (req, res, next) => {
    try {
      const r = await req.oauth.get('/me');
      res.status(r.status).json(await r.json());
    } catch (err) {
      next(err);
    }
  });
  options.routes?.(app);
  app.use(oauthErrorHandler());
  return { app, store, oauth };
}
