import http from 'node:http';
import { inspect } from 'node:util';
import request from 'supertest';
import { isOAuthError } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { login } from '../support/login-flow';
import { startResourceServer, type ResourceServer } from '../support/resource-server';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// SPEC §5: what req.oauth sends, where, and how it reacts to 401 invalid_token.
let as: TestAuthorizationServer;
let api: ResourceServer;
let foreign: { url: string; hits: number; close(): Promise<void> };

beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
  api = await startResourceServer({ issuer: as.issuer });
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits += 1;
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  foreign = {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    get hits() {
      return hits;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
});
afterAll(async () => {
  await foreign.close();
  await api.stop();
  await as.stop();
});
beforeEach(async () => {
  await as.clearRequests();
  api.seen.length = 0;
});

/** An app whose /call route runs `fn(req.oauth)` and answers its result as JSON. */
async function appCalling(fn: (oauth: Express.Request['oauth']) => Promise<unknown>, overrides = {}) {
  const { app } = createTestApp({
    oauth: providerOptions(as, { apiBaseUrl: api.url, ...overrides }),
    routes: (a) =>
      a.all('/call', async (req, res, next) => {
        try {
          res.json(await fn(req.oauth));
        } catch (err) {
          if (isOAuthError(err)) res.status(err.status).json({ code: err.code, message: err.message });
          else next(err);
        }
      }),
  });
  const agent = request.agent(app);
  await login(agent);
  await as.clearRequests();
  return agent;
}

async function asJson(res: Response) {
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('req.oauth requests', () => {
  it('should join relative URLs to apiBaseUrl and send the bearer token', async () => {
    const agent = await appCalling(async (oauth) => asJson(await oauth.get('/api/me')));
    const res = await agent.get('/call').expect(200);
    expect(res.body).toEqual({ status: 200, body: { sub: 'alice', client_id: 'rp-basic', scope: 'openid profile email', via: 'introspection' } });
    expect(api.seen).toHaveLength(1);
  });

  it('should refuse an origin outside allowedOrigins without sending anything', async () => {
    const agent = await appCalling(async (oauth) => oauth.get(`${foreign.url}/steal`));
    const res = await agent.get('/call').expect(500);
    expect(res.body.code).toBe('OAUTH_ORIGIN_NOT_ALLOWED');
    expect(res.body.message).toBe(`Refusing to send the access token to ${foreign.url}: not in allowedOrigins.`);
    expect(foreign.hits).toBe(0);
  });

  it('should merge query, send plain-object bodies as JSON and add configured headers', async () => {
    const agent = await appCalling(async (oauth) => asJson(await oauth.post('/api/echo', { query: { page: 2, q: 'a b' }, body: { name: 'repo', private: true } })), {
      apiHeaders: { 'user-agent': 'eos-test' },
    });
    const res = await agent.get('/call').expect(200);
    expect(res.body.body).toEqual({ method: 'POST', query: { page: '2', q: 'a b' }, body: { name: 'repo', private: true }, authorization: 'present', userAgent: 'eos-test' });
  });

  it('should put the token in the query, not the header, with tokenPlacement query', async () => {
    const agent = await appCalling(async (oauth) => asJson(await oauth.get('/api/echo')), { tokenPlacement: 'query', extraQuery: { key: 'app-key' } });
    const res = await agent.get('/call').expect(200);
    expect(res.body.body.authorization).toBe('absent');
    expect(Object.keys(res.body.body.query).sort()).toEqual(['access_token', 'key']);
    expect(res.body.body.query.key).toBe('app-key');
  });

  it('should refresh once and retry a GET once on 401 invalid_token', async () => {
    const agent = await appCalling(async (oauth) => asJson(await oauth.get('/api/me')));
    api.rejectNext(1);
    const res = await agent.get('/call').expect(200);
    expect(res.body).toMatchObject({ status: 200, body: { sub: 'alice' } });
    expect(api.seen).toHaveLength(2);
    expect(api.seen[0]).not.toBe(api.seen[1]); // the retry carried the refreshed token
    expect((await as.tokenRequests()).map((r) => r.grantType)).toEqual(['refresh_token']);
  });

  it('should refresh but not replay a POST on 401 invalid_token', async () => {
    const agent = await appCalling(async (oauth) => (await oauth.post('/api/me', { body: 'x' })).status);
    api.rejectNext(1);
    expect((await agent.get('/call').expect(200)).body).toBe(401);
    expect(api.seen).toHaveLength(1);
    expect((await as.tokenRequests()).map((r) => r.grantType)).toEqual(['refresh_token']); // the next call will work
  });

  it('should not loop when the API keeps answering 401', async () => {
    const agent = await appCalling(async (oauth) => (await oauth.get('/api/me')).status);
    api.rejectNext(5);
    expect((await agent.get('/call').expect(200)).body).toBe(401);
    expect(api.seen).toHaveLength(2);
    expect((await as.tokenRequests()).map((r) => r.grantType)).toEqual(['refresh_token']);
  });

  it('should reveal no token through JSON or inspect, and return a frozen token set from getToken()', async () => {
    const agent = await appCalling(async (oauth) => {
      const token = await oauth.getToken();
      const shown = JSON.stringify(oauth) + inspect(oauth, { depth: 5, showHidden: true });
      return { frozen: Object.isFrozen(token), leaked: shown.includes(token?.accessToken as string), json: JSON.parse(JSON.stringify(oauth)), type: token?.tokenType };
    });
    expect((await agent.get('/call').expect(200)).body).toEqual({ frozen: true, leaked: false, json: { provider: 'default', authenticated: true }, type: 'bearer' });
  });

  it('should reject with NOT_AUTHENTICATED (401) when nobody is logged in', async () => {
    const { app } = createTestApp({
      oauth: providerOptions(as, { apiBaseUrl: api.url }),
      routes: (a) => a.get('/anon', (req, res) => void req.oauth.get('/api/me').catch((err: { code: string; status: number }) => res.json({ code: err.code, status: err.status }))),
    });
    expect((await request(app).get('/anon').expect(200)).body).toEqual({ code: 'OAUTH_NOT_AUTHENTICATED', status: 401 });
    expect(api.seen).toEqual([]);
  });
});
