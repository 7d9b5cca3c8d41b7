import type { IncomingMessage, ServerResponse } from 'node:http';
import connect from 'connect';
import session from 'express-session';
import { oauthErrorHandler, oauthMiddleware, requireAuth, type OAuthMiddlewareOptions } from 'express-oauth2-session';

export type Req = IncomingMessage & { oauth: Express.Request['oauth']; sessionID?: string };
type Next = (err?: unknown) => void;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

/**
 * The test app on plain Connect (no Express anywhere): express-session + oauthMiddleware +
 * the same probe routes as test-app.ts, written with Node's request/response API only.
 */
export function createConnectApp(options: { oauth: OAuthMiddlewareOptions; store?: session.Store; routes?: (app: connect.Server) => void }) {
  const app = connect();
  const store = options.store ?? new session.MemoryStore();
  const asConnect = (fn: unknown) => fn as connect.NextHandleFunction;
  app.use(asConnect(session({ store, secret: 'test-session-secret', resave: false, saveUninitialized: false })));
  app.use(asConnect(oauthMiddleware(options.oauth)));
  app.use('/session', (req: IncomingMessage, res: ServerResponse) => {
    const r = req as Req;
    json(res, 200, { authenticated: r.oauth.isAuthenticated(), user: r.oauth.user ?? null, sessionId: r.sessionID });
  });
  const gate = requireAuth() as unknown as (req: IncomingMessage, res: ServerResponse, next: Next) => void;
  app.use('/me', (req: IncomingMessage, res: ServerResponse, next: Next) => {
    gate(req, res, (err?: unknown) => {
      if (err) return next(err);
      (req as Req).oauth
        .get('/me')
        .then(async (r) => json(res, r.status, await r.json()))
        .catch(next);
    });
  });
  options.routes?.(app);
  app.use(oauthErrorHandler() as unknown as connect.ErrorHandleFunction);
  return { app, store };
}
