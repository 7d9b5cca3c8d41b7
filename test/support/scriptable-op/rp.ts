// The relying party under test: the package's middleware in an Express app (express-session,
// MemoryStore), configured from the scriptable provider's discovery document (only `issuer`), and
// the browser's walk through a login, without a browser (the provider has no UI).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type express from 'express';
import request from 'supertest';
import type { OAuthMiddlewareOptions } from 'express-oauth2-session';
import { createTestApp } from '../test-app';
import type { ScriptableOp } from './op';

export const RP_REDIRECT_URI = 'http://127.0.0.1:3000/callback';

export function rpOptions(op: ScriptableOp, overrides: Record<string, unknown> = {}): OAuthMiddlewareOptions {
  return {
    issuer: op.issuer,
    clientId: op.clientId,
    clientSecret: op.clientSecret,
    redirectUri: RP_REDIRECT_URI,
    scope: ['openid', 'profile', 'email'],
    apiBaseUrl: op.issuer,
    ...overrides,
  } as OAuthMiddlewareOptions;
}

/** An app with probe routes: `/session`, `/me` (API call), `POST /refresh`, `GET /userinfo`. */
export function rpApp(options: OAuthMiddlewareOptions) {
  /** Every error the routes passed on (the error handler hides 5xx messages from the browser). */
  const errors: Array<{ code?: string; message: string; cause?: unknown }> = [];
  const test = createTestApp({
    oauth: options,
    routes: (app) => {
      app.post('/refresh', (req, res, next) => {
        req.oauth.refresh().then(() => res.json({ refreshed: true }), next);
      });
      app.get('/api', (req, res, next) => {
        req.oauth
          .get('/api/me')
          .then(async (r) => res.status(r.status).json(await r.json()))
          .catch(next);
      });
      app.get('/userinfo', (req, res, next) => {
        req.oauth.userinfo().then((claims) => res.json(claims), next);
      });
      app.use((err: Error & { code?: string }, _req: express.Request, _res: express.Response, next: express.NextFunction) => {
        errors.push(err);
        next(err);
      });
    },
  });
  return { ...test, errors, agent: request.agent(test.app) };
}

/** The app listening on an ephemeral port (for the provider's back-channel sender); `close` when done. */
export async function listen(app: http.RequestListener) {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** GET /login, follow the provider's /authorize (no UI), GET the callback: the callback's response. */
export async function loginAt(agent: ReturnType<typeof request.agent>, path = '/login') {
  const start = await agent.get(path);
  if (start.status !== 302) throw new Error(`GET ${path} answered ${start.status}: ${start.text}`);
  const authorize = await fetch(start.headers.location as string, { redirect: 'manual' });
  await authorize.arrayBuffer();
  const back = new URL(authorize.headers.get('location') ?? '');
  return agent.get(`${back.pathname}${back.search}`);
}

/** Whether the agent's session is logged in, and as whom. */
export async function sessionOf(agent: ReturnType<typeof request.agent>): Promise<{ authenticated: boolean; sub: unknown }> {
  const body = (await agent.get('/session')).body as { authenticated: boolean; user: { sub?: unknown } | null };
  return { authenticated: body.authenticated, sub: body.user?.sub ?? null };
}
