// A server process of bench group 7 (OpenTelemetry cost): `node --import tsx bench/telemetry-server.ts <json>`.
// Apps on their own ports in this one process: `bare` (express + express-session, /protected and an
// /api route calling the local API with fetch), `eos` (express-oauth2-session, default `telemetry`)
// and `eos-off` (`telemetry: false`). Its mode says what the process has: `installed` (the API, no
// SDK: what an app that never set up OpenTelemetry gets), `hidden` (run with
// test/support/hide-otel-api.cjs: the API does not resolve) or `sdk` (a tracer and a meter provider
// registered, spans recorded and dropped by a no-op exporter). Answers 'cpu' over IPC.
import http from 'node:http';
import express from 'express';
import session from 'express-session';
import { oauthMiddleware, requireAuth } from 'express-oauth2-session';
import { authorizeWithoutBrowser } from 'express-oauth2-session/testing';

interface Options {
  mode: 'installed' | 'hidden' | 'sdk';
  apiUrl: string;
  issuer: string;
  ports: { eos: number; eosOff: number };
}
const options = JSON.parse(process.argv[2] ?? '{}') as Options;

async function registerSdk(): Promise<void> {
  const { metrics, trace } = await import('@opentelemetry/api');
  const { BasicTracerProvider, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const { MeterProvider } = await import('@opentelemetry/sdk-metrics');
  const dropped = { export: (_spans: unknown, done: (r: { code: number }) => void) => done({ code: 0 }), shutdown: async () => {} };
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(dropped)] }));
  metrics.setGlobalMeterProvider(new MeterProvider());
}

function listen(app: express.Express, port = 0): Promise<string> {
  const server = http.createServer(app);
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}

async function get(url: string, cookie?: string) {
  const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  await res.arrayBuffer();
  return { status: res.status, location: res.headers.get('location') ?? '', cookies: res.headers.getSetCookie().map((c) => c.split(';')[0] as string) };
}

function baseApp(): express.Express {
  const app = express();
  app.use(session({ store: new session.MemoryStore(), secret: 'bench-session-secret', resave: false, saveUninitialized: false }));
  return app;
}

declare module 'express-session' {
  interface SessionData {
    user?: { sub: string };
  }
}

async function bare(): Promise<{ url: string; cookie: string }> {
  const app = baseApp();
  app.get('/__login', (req, res) => {
    req.session.user = { sub: 'alice' };
    res.json({ ok: true });
  });
  app.get('/protected', (req, res) => (req.session.user ? res.json({ ok: true, sub: req.session.user.sub }) : res.status(401).end()));
  app.get('/api', async (req, res) => {
    if (!req.session.user) return void res.status(401).end();
    const r = await fetch(`${options.apiUrl}/data`, { headers: { authorization: 'Bearer hand-set-token' } });
    res.json(await r.json());
  });
  const url = await listen(app);
  return { url, cookie: (await get(`${url}/__login`)).cookies.join('; ') };
}

async function eos(port: number, telemetry: boolean | undefined): Promise<{ url: string; cookie: string }> {
  const { issuer } = options;
  const app = baseApp();
  const url = await listen(app, port);
  const oauth = oauthMiddleware({
    clientId: 'rp-basic',
    clientSecret: 'rp-basic-secret',
    issuer,
    authorizationUrl: `${issuer}/auth`,
    tokenUrl: `${issuer}/token`,
    jwksUri: `${issuer}/jwks`,
    redirectUri: `${url}/callback`,
    scope: ['openid', 'profile'],
    apiBaseUrl: options.apiUrl,
    ...(telemetry === undefined ? {} : { telemetry }),
  });
  app.use(oauth);
  app.get('/protected', requireAuth(), (req, res) => res.json({ ok: true, sub: req.oauth.user?.sub }));
  app.get('/api', requireAuth(), async (req, res, next) => {
    try {
      const r = await req.oauth.get('/data');
      res.json(await r.json());
    } catch (err) {
      next(err);
    }
  });
  const start = await get(`${url}/login`);
  const { callbackUrl } = await authorizeWithoutBrowser(start.location, { user: 'alice' });
  const done = await get(callbackUrl, start.cookies.join('; '));
  const cookie = done.cookies.filter((c) => c.startsWith('connect.sid=')).join('; ');
  if (!cookie) throw new Error(`login on ${url} failed: callback answered ${done.status}`);
  return { url, cookie };
}

async function main(): Promise<void> {
  if (options.mode === 'sdk') await registerSdk();
  const ready = { bare: await bare(), eos: await eos(options.ports.eos, undefined), 'eos-off': await eos(options.ports.eosOff, false) };
  process.send?.({ ready });
}

process.on('message', (msg) => {
  if (msg === 'cpu') process.send?.({ cpu: process.cpuUsage() });
});
main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
