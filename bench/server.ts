// One benchmark server process: `node --import tsx bench/server.ts <scenario> <json>`.
// Sends { port, cookie? } to the parent over IPC once listening; answers 'cpu' with process.cpuUsage().
import http from 'node:http';
import express from 'express';
import session from 'express-session';
import { oauthMiddleware, requireAuth } from 'express-oauth2-session';
import { authorizeWithoutBrowser } from 'express-oauth2-session/testing';

const [scenario = 'bare', rawOptions = '{}'] = process.argv.slice(2);
// The OAuth scenarios get a port and the test provider (started by run.mjs in its own process, with
// their redirect URIs registered) so every server process differs only in its auth middleware.
const options = JSON.parse(rawOptions) as { apiUrl?: string; apiToken?: string; port?: number; issuer?: string };
const SECRET = 'bench-session-secret';

function listen(app: express.Express, port = 0): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(app);
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

/** GET a path with a cookie, no redirects; returns status, location and the session cookie set. */
async function get(url: string, cookie?: string) {
  const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  await res.arrayBuffer();
  const set = res.headers.getSetCookie().find((c) => c.startsWith('connect.sid='));
  return { status: res.status, location: res.headers.get('location'), cookie: set?.split(';')[0] };
}

function baseApp(): express.Express {
  const app = express();
  app.use(session({ store: new session.MemoryStore(), secret: SECRET, resave: false, saveUninitialized: false }));
  return app;
}

async function bare(withApi: boolean, layers = 0) {
  const app = baseApp();
  // Optional no-op layers: what any middleware-based gate costs in Express routing alone.
  for (let i = 0; i < layers; i += 1) app.use((_req, _res, next) => next());
  app.get('/__login', (req, res) => {
    req.session.user = { sub: 'alice' };
    res.json({ ok: true });
  });
  app.get('/public', (_req, res) => res.json({ ok: true }));
  app.get('/protected', (req, res) => (req.session.user ? res.json({ ok: true, sub: req.session.user.sub }) : res.status(401).end()));
  if (withApi) {
    app.get('/api', async (req, res) => {
      if (!req.session.user) return void res.status(401).end();
      const r = await fetch(`${options.apiUrl}/data`, { headers: { authorization: `Bearer ${options.apiToken}` } });
      res.json(await r.json());
    });
  }
  const { url } = await listen(app);
  return { url, cookie: (await get(`${url}/__login`)).cookie };
}

async function eos() {
  const issuer = options.issuer as string;
  const app = baseApp();
  const { url } = await listen(app, options.port);
  app.use(
    oauthMiddleware({
      clientId: 'rp-basic',
      clientSecret: 'rp-basic-secret',
      issuer,
      authorizationUrl: `${issuer}/auth`,
      tokenUrl: `${issuer}/token`,
      jwksUri: `${issuer}/jwks`,
      redirectUri: `${url}/callback`,
      scope: ['openid', 'profile'],
      apiBaseUrl: options.apiUrl ?? issuer,
    }),
  );
  app.get('/public', (_req, res) => res.json({ ok: true }));
  app.get('/protected', requireAuth(), (req, res) => res.json({ ok: true, sub: req.oauth.user?.sub }));
  app.get('/api', requireAuth(), async (req, res, next) => {
    try {
      const r = await req.oauth.get('/data');
      res.json(await r.json());
    } catch (err) {
      next(err);
    }
  });
  // A real login: /login → the provider's login + consent pages → /callback.
  const start = await get(`${url}/login`);
  const { callbackUrl } = await authorizeWithoutBrowser(start.location as string, { user: 'alice' });
  const done = await get(callbackUrl.replace(/^http:\/\/[^/]+/, url), start.cookie);
  return { url, cookie: done.cookie };
}

async function passportApp() {
  // passport is a dependency of bench/ only (untyped here): the minimum this workload uses.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const passport = require('passport') as {
    serializeUser(fn: (user: { sub: string }, done: (err: null, id: string) => void) => void): void;
    deserializeUser(fn: (id: string, done: (err: null, user: { sub: string }) => void) => void): void;
    session(): express.RequestHandler;
  };
  const app = baseApp();
  passport.serializeUser((user: { sub: string }, done) => done(null, user.sub));
  passport.deserializeUser((sub: string, done) => done(null, { sub }));
  app.use(passport.session());
  type PassportRequest = express.Request & { login(user: object, cb: (err?: unknown) => void): void; isAuthenticated(): boolean; user?: { sub: string } };
  app.get('/__login', (req, res, next) => (req as PassportRequest).login({ sub: 'alice' }, (err) => (err ? next(err) : res.json({ ok: true }))));
  app.get('/protected', (req, res) => {
    const r = req as PassportRequest;
    if (r.isAuthenticated()) res.json({ ok: true, sub: r.user?.sub });
    else res.status(401).end();
  });
  const { url } = await listen(app);
  return { url, cookie: (await get(`${url}/__login`)).cookie };
}

/** express-openid-connect: its own encrypted cookie session, logged in for real against the test provider. */
async function openidConnect() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { auth, requiresAuth } = require('express-openid-connect') as {
    auth(config: object): express.RequestHandler;
    requiresAuth(): express.RequestHandler;
  };
  const app = express();
  const { url } = await listen(app, options.port);
  app.use(
    auth({
      issuerBaseURL: options.issuer,
      baseURL: url,
      clientID: 'rp-basic',
      clientSecret: 'rp-basic-secret',
      secret: 'a-long-enough-secret-for-the-cookie-encryption',
      authRequired: false,
      authorizationParams: { response_type: 'code', scope: 'openid profile' },
    }),
  );
  app.get('/protected', requiresAuth(), (req, res) => res.json({ ok: true, sub: (req as unknown as { oidc: { user?: { sub: string } } }).oidc.user?.sub }));
  const start = await fetch(`${url}/login`, { redirect: 'manual' });
  const transient = start.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const { callbackUrl } = await authorizeWithoutBrowser(start.headers.get('location') as string, { user: 'alice' });
  const done = await fetch(callbackUrl, { redirect: 'manual', headers: { cookie: transient } });
  const cookie = done.headers.getSetCookie().map((c) => c.split(';')[0] ?? '').filter((c) => c.startsWith('appSession')).join('; ');
  if (!cookie) throw new Error(`express-openid-connect login failed: HTTP ${done.status}`);
  return { url, cookie };
}

/**
 * The compared variants in ONE process, each an app on its own port: same heap, same GC, same
 * loaded modules, so the only difference between them is the middleware under test.
 */
async function together() {
  const entries = await Promise.all([
    ['bare', bare(false)],
    ['bare-layers', bare(false, 2)],
    ['bare-api', bare(true)],
    ['eos', eos()],
    ['passport', passportApp()],
  ].map(async ([name, ready]) => [name, await (ready as Promise<{ url: string; cookie?: string }>)] as const));
  return Object.fromEntries(entries) as unknown as { url: string; cookie?: string };
}

const scenarios: Record<string, () => Promise<{ url: string; cookie?: string }>> = {
  together,
  bare: () => bare(false),
  'bare-layers': () => bare(false, 2),
  'bare-api': () => bare(true),
  eos,
  passport: passportApp,
  'openid-connect': openidConnect,
};

declare module 'express-session' {
  interface SessionData {
    user?: { sub: string };
  }
}

process.on('SIGTERM', () => process.exit(0)); // lets --cpu-prof write its profile
process.on('message', (msg) => {
  if (msg === 'cpu') process.send?.({ cpu: process.cpuUsage() });
});
void (scenarios[scenario] ?? scenarios.bare)!().then((ready) => process.send?.({ ready }));
