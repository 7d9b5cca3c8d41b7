import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { authorizeWithoutBrowser } from 'express-oauth2-session/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { sessionCookie } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Issue 13 #12a: property-based callbacks against an app on the real test AS. Every generated
// callback is invalid by construction; none may reach the token endpoint, answer 5xx, redirect or
// leave an unhandled error. Requests go over keep-alive sockets to a listening server (no supertest
// server per request), ten at a time: each fast-check run is a batch of ten callbacks.
const BATCH = 10;
const WRONG_STATE_RUNS = 700;
const DEFECT_RUNS = 300;

let as: TestAuthorizationServer;
let server: http.Server;
let port: number;
const agent = new http.Agent({ keepAlive: true, maxSockets: BATCH });
const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => void unhandled.push(err);

interface Answer {
  pathLength: number;
  status: number;
  location: string | undefined;
  setCookie: string[] | undefined;
  body: string;
}

function get(path: string, cookie: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent, headers: { accept: 'application/json', cookie } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ pathLength: path.length, status: res.statusCode ?? 0, location: res.headers.location, setCookie: res.headers['set-cookie'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let overLimit = 0;
/**
 * Node answers 431 itself (empty body, the app never runs) when the request line exceeds its
 * 16 KiB header limit. Allowed only for such long requests, and counted.
 */
function isOverHeaderLimit(res: Answer): boolean {
  if (res.status !== 431) return false;
  expect(res.pathLength).toBeGreaterThan(12 * 1024);
  overLimit += 1;
  return true;
}

async function startLogin(cookie = ''): Promise<{ cookie: string; state: string; authorizationUrl: string }> {
  const res = await get('/login', cookie);
  const authorizationUrl = res.location as string;
  return { cookie: res.setCookie ? sessionCookie({ headers: { 'set-cookie': res.setCookie } }) : cookie, state: new URL(authorizationUrl).searchParams.get('state') as string, authorizationUrl };
}

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI] });
  const { app } = createTestApp({ oauth: providerOptions(as) });
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
  agent.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await as.stop();
});

const RESERVED = ['state', 'code', 'iss', 'error', 'access_token', 'id_token', 'token', 'response'];
/** Raw query fragments that stress the parser: bad escapes, NUL, empty keys, separators. */
const RAW_NOISE = ['%', '%zz', '%00', '%2', '+', '&&', '==', '=', '%26state%3D', 'state', 'code=', '%E0%A4%A', '%C0%AF'];
const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 12 }), fc.constantFrom('', ' ', '\r\n', '\u0000', 'x'.repeat(5000)));
const pair = (keys: fc.Arbitrary<string>, values: fc.Arbitrary<string>) => fc.tuple(keys, values).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
const noise = fc.array(
  fc.oneof(
    pair(
      text.filter((k) => !RESERVED.includes(k)),
      text,
    ),
    fc.constantFrom(...RAW_NOISE),
  ),
  { maxLength: 4 },
);

function shuffleJoin(parts: string[], seed: number): string {
  return parts
    .map((p, i) => [p, (i * 7919 + seed) % 101] as const)
    .sort((a, b) => a[1] - b[1])
    .map(([p]) => p)
    .join('&');
}

describe('fuzzed callbacks against the real authorization server', () => {
  it(`should answer ${WRONG_STATE_RUNS * BATCH} callbacks without this session's state with 400 and no token call`, async () => {
    const started = await startLogin();
    const real = new URL((await authorizeWithoutBrowser(started.authorizationUrl, { user: 'alice' })).callbackUrl).searchParams;
    const realCode = real.get('code') as string;
    const realIss = real.get('iss') as string;
    // Anything but the real state: variants of it, others, duplicates, nothing.
    const state = fc.oneof(text, fc.constantFrom(`${started.state}x`, started.state.slice(1), started.state.toUpperCase(), ` ${started.state}`));
    const known = fc.oneof(text, fc.constantFrom(realCode, realIss, 'server_error', 'access_denied'));
    const query = fc
      .tuple(fc.array(pair(fc.constant('state'), state), { maxLength: 3 }), fc.array(pair(fc.constantFrom(...RESERVED.slice(1)), known), { maxLength: 4 }), noise, fc.nat())
      .map(([s, r, n, seed]) => shuffleJoin([...s, ...r, ...n], seed));
    await as.clearRequests();
    overLimit = 0;
    const t0 = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.array(query, { minLength: BATCH, maxLength: BATCH }), async (queries) => {
        const answers = await Promise.all(queries.map((q) => get(`/callback?${q}`, started.cookie)));
        for (const res of answers) {
          if (!isOverHeaderLimit(res)) expect([res.status, res.location, JSON.parse(res.body).code]).toEqual([400, undefined, 'OAUTH_INVALID_CALLBACK']);
        }
      }),
      { numRuns: WRONG_STATE_RUNS },
    );
    process.stdout.write(`fuzz-callback wrong-state: ${WRONG_STATE_RUNS * BATCH} cases (${overLimit} over Node's header limit) in ${Date.now() - t0} ms\n`);
    expect(await as.tokenRequests()).toEqual([]);
    expect(unhandled).toEqual([]);
  });

  it(`should answer ${DEFECT_RUNS * BATCH} callbacks with a live state and one defect with 400 and no token call, then still log in`, async () => {
    // One session per lane: parallel logins in one session would race on its transaction list.
    const cookies = await Promise.all(Array.from({ length: BATCH }, async () => (await startLogin()).cookie));
    const iss = as.issuer;
    const defect = fc.oneof(
      fc.constant(['code=a', 'code=b']),
      fc.constant([]),
      fc.constantFrom('access_token', 'id_token', 'token', 'response').map((k) => [`code=c`, `${k}=x`]),
      text.filter((v) => v !== iss).map((v) => ['code=c', `iss=${encodeURIComponent(v)}`]),
      fc.constant(['code=c', `iss=${encodeURIComponent(iss)}`, `iss=${encodeURIComponent(iss)}`]),
      fc.constantFrom('access_denied', 'server_error', '').map((e) => ['code=c', `error=${e}`]),
      fc.constant([`code=${'c'.repeat(4097)}`]),
      fc.constant(['code=']),
    );
    const withIss = fc.boolean().map((b) => (b ? [`iss=${encodeURIComponent(iss)}`] : []));
    await as.clearRequests();
    overLimit = 0;
    const t0 = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(defect, withIss, noise, fc.nat()), { minLength: BATCH, maxLength: BATCH }), async (cases) => {
        const answers = await Promise.all(
          cases.map(async ([bad, issPart, extra, seed], lane) => {
            const login = await startLogin(cookies[lane]);
            const hasIss = bad.some((p) => p.startsWith('iss='));
            const q = shuffleJoin([`state=${encodeURIComponent(login.state)}`, ...bad, ...(hasIss ? [] : issPart), ...extra], seed);
            return get(`/callback?${q}`, login.cookie);
          }),
        );
        for (const res of answers) {
          if (isOverHeaderLimit(res)) continue;
          expect([res.status, res.location]).toEqual([400, undefined]);
          expect(['OAUTH_INVALID_CALLBACK', 'OAUTH_MIX_UP']).toContain(JSON.parse(res.body).code);
        }
      }),
      { numRuns: DEFECT_RUNS },
    );
    process.stdout.write(`fuzz-callback live-state defects: ${DEFECT_RUNS * BATCH} cases (${overLimit} over Node's header limit) in ${Date.now() - t0} ms\n`);
    expect(await as.tokenRequests()).toEqual([]);
    // The same session still completes a real login: exactly one code exchange, so the count above could fail.
    const last = await startLogin(cookies[0]);
    const { callbackUrl } = await authorizeWithoutBrowser(last.authorizationUrl, { user: 'alice' });
    const done = await get(new URL(callbackUrl).pathname + new URL(callbackUrl).search, last.cookie);
    expect(done.status).toBe(303);
    expect((await as.tokenRequests()).map((r) => r.grantType)).toEqual(['authorization_code']);
    expect(unhandled).toEqual([]);
  });
});
