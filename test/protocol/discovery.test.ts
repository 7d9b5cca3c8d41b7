import http from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import request from 'supertest';
import { providers } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { authorize, login, pathOf } from '../support/login-flow';
import { createTestApp, REDIRECT_URI } from '../support/test-app';

// providers.oidc({ issuer }): everything else from discovery, against the real oidc-provider;
// plus a hand-made OpenID provider for the faults a real one does not produce.
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

const client = { clientId: 'rp-basic', clientSecret: 'rp-basic-secret', redirectUri: REDIRECT_URI, scope: ['openid', 'email'] };

describe('providers.oidc({ issuer }) against oidc-provider', () => {
  it('should discover the endpoints, verify the ID token and expose its claims', async () => {
    const { app } = createTestApp({ oauth: { ...providers.oidc({ issuer: as.issuer }), ...client, apiBaseUrl: as.issuer } });
    const agent = request.agent(app);
    const start = await agent.get('/login').expect(302);
    expect((start.headers.location as string).startsWith(`${as.issuer}/auth?`)).toBe(true);
    await login(agent, { user: 'bob' });
    expect((await agent.get('/session')).body.user).toEqual({ sub: 'bob' });
    expect((await agent.get('/me').expect(200)).body).toMatchObject({ sub: 'bob', email: 'bob@example.test' });
    await agent.post('/logout').expect(303);
    expect((await as.requests()).filter((r) => r.endpoint === '/token/revocation').map((r) => r.status)).toEqual([200, 200]); // discovered revocation endpoint
  });

  it('should work from the issuer alone: scope openid, PKCE and nonce, one cached discovery request and key set for several logins', async () => {
    const discoveries: string[] = [];
    const spy = (input: string | URL, init?: RequestInit) => {
      discoveries.push(String(input));
      return fetch(input, init);
    };
    const { app } = createTestApp({ oauth: { ...providers.oidc({ issuer: as.issuer }), clientId: 'rp-basic', clientSecret: 'rp-basic-secret', redirectUri: REDIRECT_URI, fetch: spy } });
    for (const user of ['alice', 'bob']) {
      const agent = request.agent(app);
      const params = new URL((await agent.get('/login').expect(302)).headers.location as string).searchParams;
      expect([params.get('scope'), params.get('code_challenge_method'), params.get('nonce')?.length]).toEqual(['openid', 'S256', 43]);
      await login(agent, { user });
      expect((await agent.get('/session')).body.user).toEqual({ sub: user });
    }
    // One discovery and one key-set fetch for both logins, through this instance's own fetch (no
    // key set cached by another instance: see instance-isolation.test.ts).
    expect(discoveries).toEqual([`${as.issuer}/.well-known/openid-configuration`, `${as.issuer}/jwks`]);
  });

  it('should require the iss parameter the provider promises (RFC 9207)', async () => {
    const { app } = createTestApp({ oauth: { ...providers.oidc({ issuer: as.issuer }), ...client } });
    const agent = request.agent(app);
    const { callbackUrl } = await authorize(agent);
    const url = new URL(callbackUrl);
    url.searchParams.delete('iss');
    const res = await agent.get(pathOf(url.toString())).set('Accept', 'application/json');
    expect([res.status, res.body.code]).toEqual([400, 'OAUTH_MIX_UP']);
    expect(await as.tokenRequests()).toEqual([]);
  });
});

/** A minimal OpenID provider whose discovery document and ID tokens the test controls. */
async function handmadeProvider(options: { issuerInDocument?: (issuer: string) => string; nonce?: (sent: string) => string }) {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  let issuer = '';
  let lastNonce = '';
  let tokenCalls = 0;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname === '/.well-known/openid-configuration') {
      json({ issuer: options.issuerInDocument?.(issuer) ?? issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks` });
    } else if (url.pathname === '/jwks') {
      json({ keys: [jwk] });
    } else if (url.pathname === '/authorize') {
      lastNonce = url.searchParams.get('nonce') ?? '';
      const back = new URL(url.searchParams.get('redirect_uri') as string);
      back.searchParams.set('code', 'c');
      back.searchParams.set('state', url.searchParams.get('state') as string);
      res.writeHead(302, { location: back.toString() }).end();
    } else if (url.pathname === '/token') {
      tokenCalls += 1;
      const idToken = await new SignJWT({ nonce: options.nonce?.(lastNonce) ?? lastNonce, email: 'x@example.test' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(issuer)
        .setAudience('rp')
        .setSubject('user-1')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
      json({ access_token: 'at', token_type: 'Bearer', expires_in: 300, id_token: idToken });
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { issuer, tokenCalls: () => tokenCalls, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('OIDC faults', () => {
  it('should refuse a discovery document whose issuer differs (502, no redirect to the provider)', async () => {
    const op = await handmadeProvider({ issuerInDocument: (issuer) => `${issuer}/` });
    try {
      const { app } = createTestApp({ oauth: { ...providers.oidc({ issuer: op.issuer }), clientId: 'rp', clientSecret: 's', redirectUri: REDIRECT_URI, scope: ['openid'] } });
      const res = await request(app).get('/login').set('Accept', 'application/json');
      expect(res.status).toBe(502); // unreachable discovery is 503 (retry later); a wrong document is 502
      expect(res.body.code).toBe('OAUTH_DISCOVERY_ERROR');
      expect(res.headers.location).toBeUndefined();
    } finally {
      await op.stop();
    }
  });

  it("should reject an ID token whose nonce is not this login's (502, not logged in)", async () => {
    const op = await handmadeProvider({ nonce: () => 'another-login' });
    try {
      const { app } = createTestApp({ oauth: { ...providers.oidc({ issuer: op.issuer }), clientId: 'rp', clientSecret: 's', redirectUri: REDIRECT_URI, scope: ['openid'] } });
      const agent = request.agent(app);
      const start = await agent.get('/login').expect(302);
      const back = await fetch(start.headers.location as string, { redirect: 'manual' });
      const res = await agent.get(pathOf(back.headers.get('location') as string)).set('Accept', 'application/json');
      expect([res.status, res.body.code]).toEqual([502, 'OAUTH_ID_TOKEN_INVALID']);
      expect((await agent.get('/session')).body.authenticated).toBe(false);
      expect(op.tokenCalls()).toBe(1);
    } finally {
      await op.stop();
    }
  });

  it('should accept the same provider when the nonce matches', async () => {
    const op = await handmadeProvider({});
    try {
      const { app } = createTestApp({ oauth: { ...providers.oidc({ issuer: op.issuer }), clientId: 'rp', clientSecret: 's', redirectUri: REDIRECT_URI, scope: ['openid'] } });
      const agent = request.agent(app);
      const start = await agent.get('/login').expect(302);
      const back = await fetch(start.headers.location as string, { redirect: 'manual' });
      await agent.get(pathOf(back.headers.get('location') as string)).expect(303);
      expect((await agent.get('/session')).body.user).toEqual({ sub: 'user-1', email: 'x@example.test' });
    } finally {
      await op.stop();
    }
  });
});
