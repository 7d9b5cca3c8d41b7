// The benchmark server process: `node --import tsx bench/server.ts <json>`. Every compared variant
// is an app on its own port inside this ONE process (same heap, GC and loaded modules), so the
// variants differ only in their auth middleware. Sends { ready: { <variant>: { url, cookie } } }
// over IPC once all are listening and logged in; answers 'cpu' with process.cpuUsage().
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import inspector from 'node:inspector';
import express from 'express';
import session from 'express-session';
import { oauthMiddleware, requireAuth } from 'express-oauth2-session';
import { authorizeWithoutBrowser } from 'express-oauth2-session/testing';
import type { StoredOAuthData } from '../lib/session/session-format';

interface Options {
  apiUrl: string;
  apiToken: string;
  issuer: string;
  /** Ports of the variants that log in at the provider (their redirect URIs are registered there). */
  ports: { eos: number; passport: number; openidConnect: number; eosApis?: number };
}
interface Ready {
  url: string;
  cookie?: string;
}

const options = JSON.parse(process.argv[2] ?? '{}') as Options;
/** Time spent inside oauthMiddleware itself (until it calls next), while switched on over IPC. */
const timing = { on: false, ns: 0, calls: 0 };
const SECRET = 'bench-session-secret';

function listen(app: express.Express, port = 0): Promise<string> {
  const server = http.createServer(app);
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}

/** GET without following redirects: status, location and the cookies set (name=value pairs). */
async function get(url: string, cookie?: string) {
  const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  await res.arrayBuffer();
  const cookies = res.headers.getSetCookie().map((c) => c.split(';')[0] as string);
  return { status: res.status, location: res.headers.get('location') ?? '', cookies };
}

/** A real login: `/login` on the app → the provider's login and consent pages → the app's callback. */
async function loginAtProvider(url: string, cookieName: string): Promise<string> {
  const start = await get(`${url}/login`);
  if (start.status !== 302) throw new Error(`${url}/login answered ${start.status}`);
  const { callbackUrl } = await authorizeWithoutBrowser(start.location, { user: 'alice' });
  const done = await get(callbackUrl, start.cookies.join('; '));
  const cookie = done.cookies.filter((c) => c.startsWith(cookieName)).join('; ');
  if (!cookie) throw new Error(`login on ${url} failed: callback answered ${done.status}`);
  return cookie;
}

function baseApp(): express.Express {
  const app = express();
  app.use(session({ store: new session.MemoryStore(), secret: SECRET, resave: false, saveUninitialized: false }));
  return app;
}

/**
 * Bare express + express-session; "logged in" = `req.session.user` set by `/__login`. Yardsticks:
 * no-op layers in front (Express's routing cost per layer), one middleware that sets a property on
 * `req` (what attaching anything to `req` costs), or the login written in express-oauth2-session's
 * session shape (`req.session.oauth.p.default`, what that shape costs express-session).
 */
/** `req.session.oauth` is opaque to apps; the bench writes its stored shape directly. */
type StoredShape = { oauth?: StoredOAuthData };

async function bare(withApi: boolean, extra: 'layers' | 'property' | 'marker' | 'none' = 'none'): Promise<Ready> {
  const app = baseApp();
  if (extra === 'layers') for (let i = 0; i < 2; i += 1) app.use((_req, _res, next) => next());
  if (extra === 'property') {
    app.use((req, _res, next) => {
      (req as unknown as { extra: object }).extra = { on: true };
      next();
    });
  }
  app.get('/__login', (req, res) => {
    if (extra === 'marker') (req.session as StoredShape).oauth = { p: { default: { at: Date.now(), sub: 'alice' } } };
    else req.session.user = { sub: 'alice' };
    res.json({ ok: true });
  });
  app.get('/public', (_req, res) => res.json({ ok: true }));
  app.get('/protected', (req, res) => {
    const user = extra === 'marker' ? (req.session as StoredShape).oauth?.p?.default : req.session.user;
    if (user) res.json({ ok: true, sub: user.sub });
    else res.status(401).end();
  });
  if (withApi) {
    app.get('/api', async (req, res) => {
      if (!req.session.user) return void res.status(401).end();
      const r = await fetch(`${options.apiUrl}/data`, { headers: { authorization: `Bearer ${options.apiToken}` } });
      res.json(await r.json());
    });
  }
  const url = await listen(app);
  return { url, cookie: (await get(`${url}/__login`)).cookies.join('; ') };
}

async function eos(): Promise<Ready> {
  const { issuer } = options;
  const app = baseApp();
  const url = await listen(app, options.ports.eos);
  const mw = oauthMiddleware({
    clientId: 'rp-basic',
    clientSecret: 'rp-basic-secret',
    issuer,
    authorizationUrl: `${issuer}/auth`,
    tokenUrl: `${issuer}/token`,
    jwksUri: `${issuer}/jwks`,
    redirectUri: `${url}/callback`,
    scope: ['openid', 'profile'],
    apiBaseUrl: options.apiUrl,
  });
  app.use(function timedOauth(req, res, next) {
    if (!timing.on) return mw(req, res, next);
    const t0 = process.hrtime.bigint();
    let sync = true;
    mw(req, res, (err?: unknown) => {
      if (sync) {
        timing.ns += Number(process.hrtime.bigint() - t0);
        timing.calls += 1;
      }
      next(err);
    });
    sync = false;
  });
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
  return { url, cookie: await loginAtProvider(url, 'connect.sid=') };
}

/**
 * Group 6: the same app with `apis` configured (one API with its own resource): `/api` calls
 * `req.oauth.get('/data')` with the login's token (routing checks the API list first), `/api-orders`
 * calls `req.oauth.api('orders').get('/data')` with the API's own token, warm in the token record.
 */
async function eosApis(): Promise<Ready> {
  const { issuer } = options;
  const app = baseApp();
  const url = await listen(app, options.ports.eosApis);
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
      apiBaseUrl: options.apiUrl,
      apis: { orders: { url: `${options.apiUrl}/orders`, resource: 'https://orders.bench.test/', scope: 'orders:read' } },
    }),
  );
  const send = (call: (req: express.Request) => Promise<Response>): express.RequestHandler =>
    async function apiRoute(req, res, next) {
      try {
        const r = await call(req);
        res.json(await r.json());
      } catch (err) {
        next(err);
      }
    };
  app.get(
    '/api',
    requireAuth(),
    send((req) => req.oauth.get('/data')),
  );
  app.get(
    '/api-orders',
    requireAuth(),
    send((req) => req.oauth.api('orders').get('/data')),
  );
  const ready = { url, cookie: await loginAtProvider(url, 'connect.sid=') };
  // Warm: the API's token is obtained once and then read from the token record.
  const warm = await fetch(`${url}/api-orders`, { headers: { cookie: ready.cookie } });
  if (warm.status !== 200) throw new Error(`GET /api-orders answered ${warm.status}`);
  await warm.arrayBuffer();
  return ready;
}

type Done = (err: unknown, value?: unknown) => void;
type PassportRequest = express.Request & { isAuthenticated(): boolean; user?: { sub: string } };

/** The `sub` claim of an ID token (passport-oauth2 hands over the token response unverified). */
function subOf(idToken: string): string {
  return (JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString()) as { sub: string }).sub;
}

/** passport + passport-oauth2, session-backed: logged in for real; the user id is deserialized from the session. */
async function passportApp(): Promise<Ready> {
  // passport and passport-oauth2 are dependencies of bench/ only (untyped here).

  const { Passport } = require('passport') as { Passport: new () => Record<string, (...args: unknown[]) => express.RequestHandler> };

  const { Strategy } = require('passport-oauth2') as { Strategy: new (options: object, verify: (...args: unknown[]) => void) => object };
  const passport = new Passport();
  const { issuer } = options;
  const app = baseApp();
  const url = await listen(app, options.ports.passport);
  const strategyOptions = {
    authorizationURL: `${issuer}/auth`,
    tokenURL: `${issuer}/token`,
    clientID: 'rp-post',
    clientSecret: 'rp-post-secret',
    callbackURL: `${url}/callback`,
    scope: ['openid'],
    state: true,
    pkce: true,
  };
  passport.use!('oauth2', new Strategy(strategyOptions, (_at, _rt, params, _profile, done) => (done as Done)(null, { sub: subOf((params as { id_token: string }).id_token) })) as never);
  passport.serializeUser!(((user: { sub: string }, done: Done) => done(null, user.sub)) as never);
  passport.deserializeUser!(((sub: string, done: Done) => done(null, { sub })) as never);
  app.use(passport.session!());
  app.get('/login', passport.authenticate!('oauth2'));
  app.get('/callback', passport.authenticate!('oauth2', { failureRedirect: '/login-failed' }), (_req, res) => res.redirect('/'));
  app.get('/protected', (req, res) => {
    const r = req as PassportRequest;
    if (r.isAuthenticated()) res.json({ ok: true, sub: r.user?.sub });
    else res.status(401).end();
  });
  return { url, cookie: await loginAtProvider(url, 'connect.sid=') };
}

/** express-openid-connect: its own encrypted cookie session, logged in for real. */
async function openidConnect(): Promise<Ready> {
  const { auth, requiresAuth } = require('express-openid-connect') as { auth(config: object): express.RequestHandler; requiresAuth(): express.RequestHandler };
  const app = express();
  const url = await listen(app, options.ports.openidConnect);
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
  return { url, cookie: await loginAtProvider(url, 'appSession') };
}

const variants: Record<string, () => Promise<Ready>> = {
  bare: () => bare(false),
  'bare-layers': () => bare(false, 'layers'),
  'bare-property': () => bare(false, 'property'),
  'bare-marker': () => bare(false, 'marker'),
  'bare-api': () => bare(true),
  eos,
  ...(options.ports.eosApis ? { 'eos-apis': eosApis } : {}),
  passport: passportApp,
  'openid-connect': openidConnect,
};

declare module 'express-session' {
  interface SessionData {
    user?: { sub: string };
  }
}

async function main(): Promise<void> {
  const ready: Record<string, Ready> = {};
  for (const [name, start] of Object.entries(variants)) ready[name] = await start();
  process.send?.({ ready });
}

/** CPU profile of one load window, for bench/profile.mjs ('profile-start', then 'profile-stop:<file>'). */
const profiler = new inspector.Session();
function profile(msg: string): void {
  if (msg === 'profile-start') {
    profiler.connect();
    profiler.post('Profiler.enable', () => profiler.post('Profiler.start', () => process.send?.({ profiling: true })));
  } else if (msg.startsWith('profile-stop:')) {
    profiler.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(msg.slice('profile-stop:'.length), JSON.stringify(result.profile));
      profiler.disconnect();
      process.send?.({ profiled: err ? String(err) : true });
    });
  }
}

process.on('SIGTERM', () => process.exit(0)); // lets --cpu-prof write its profile
process.on('message', (msg) => {
  if (msg === 'cpu') process.send?.({ cpu: process.cpuUsage() });
  if (typeof msg === 'string' && msg.startsWith('profile')) profile(msg);
  if (msg === 'timing-on') Object.assign(timing, { on: true, ns: 0, calls: 0 });
  if (msg === 'timing-off') {
    timing.on = false;
    process.send?.({ timing: { nsPerCall: timing.ns / timing.calls, calls: timing.calls } });
  }
});
main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
