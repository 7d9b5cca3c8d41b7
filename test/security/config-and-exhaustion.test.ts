import http from 'node:http';
import session from 'express-session';
import request from 'supertest';
import { oauthMiddleware, providers } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Checklist I (#39-#40): configuration and discovery validation, unauthenticated resource exhaustion.
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

async function discoveryServer(doc: (issuer: string) => object | undefined) {
  let issuer = '';
  const server = http.createServer((_req, res) => {
    const body = doc(issuer);
    if (!body) return void res.writeHead(500).end('down');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { issuer, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

const client = { clientId: 'c', clientSecret: 's', redirectUri: REDIRECT_URI, scope: ['openid'] };
async function loginStatus(issuer: string) {
  const { app } = createTestApp({ oauth: { ...providers.oidc({ issuer }), ...client } });
  const res = await request(app).get('/login').set('Accept', 'application/json');
  return { status: res.status, code: res.body.code as string | undefined, location: res.headers.location as string | undefined };
}

describe('#39 discovery and configuration validation', () => {
  it('should refuse a non-loopback http issuer at startup', () => {
    expect(() => oauthMiddleware({ ...providers.oidc({ issuer: 'http://login.example' }), ...client })).toThrow('`issuer` must use https (http is allowed only for loopback hosts)');
  });

  it.each([
    ['an issuer with an extra trailing slash', (i: string) => ({ issuer: `${i}/`, authorization_endpoint: `${i}/a`, token_endpoint: `${i}/t` }), 502],
    ['no S256 in code_challenge_methods_supported', (i: string) => ({ issuer: i, authorization_endpoint: `${i}/a`, token_endpoint: `${i}/t`, code_challenge_methods_supported: ['plain'] }), 502],
    ['no token endpoint', (i: string) => ({ issuer: i, authorization_endpoint: `${i}/a` }), 502],
    ['a discovery endpoint answering 500', () => undefined, 503],
  ])('should refuse %s: /login answers %i through next(err), no redirect', async (_name, doc, status) => {
    const server = await discoveryServer(doc);
    try {
      expect(await loginStatus(server.issuer)).toEqual({ status, code: 'OAUTH_DISCOVERY_ERROR', location: undefined });
    } finally {
      await server.stop();
    }
  });

  it('should retry discovery after a failure once its 1 s backoff has passed', async () => {
    let up = false;
    const server = await discoveryServer((i) => (up ? { issuer: i, authorization_endpoint: `${i}/a`, token_endpoint: `${i}/t` } : undefined));
    try {
      const { app } = createTestApp({ oauth: { ...providers.oidc({ issuer: server.issuer }), ...client } });
      expect((await request(app).get('/login')).status).toBe(503);
      up = true;
      expect((await request(app).get('/login')).status).toBe(503);
      const realNow = Date.now.bind(Date);
      jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 1000);
      expect((await request(app).get('/login')).status).toBe(302);
    } finally {
      jest.restoreAllMocks();
      await server.stop();
    }
  });
});

describe('#40 unauthenticated resource exhaustion', () => {
  it('should make no token request and store nothing for 1000 junk callbacks', async () => {
    const store = new session.MemoryStore();
    const { app } = createTestApp({ store, oauth: providerOptions(as) });
    const count = () => new Promise<number>((resolve) => store.length((_e, n) => resolve(n ?? -1)));
    for (let i = 0; i < 1000; i += 1) {
      const res = await request(app).get(`/callback?state=junk${i}&code=c${i}`).set('Accept', 'application/json');
      expect(res.status).toBe(400);
    }
    expect(await count()).toBe(0);
    expect(await as.tokenRequests()).toEqual([]);
  });
});
