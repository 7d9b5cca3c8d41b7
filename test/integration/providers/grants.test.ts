import http from 'node:http';
import { clientCredentials, passwordGrant } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../../support/authorization-server';
import { startResourceServer, type ResourceServer } from '../../support/resource-server';

// Backend grants: client credentials against the real AS (its `svc` client), and the discouraged
// password grant against a local token endpoint (oidc-provider has no password grant).
let as: TestAuthorizationServer;
let api: ResourceServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ clientCredentialsTTL: 2 });
  api = await startResourceServer({ issuer: as.issuer });
});
afterAll(async () => {
  await api.stop();
  await as.stop();
});
beforeEach(() => as.clearRequests());

const svc = () => ({ clientId: 'svc', clientSecret: 'svc-secret', tokenUrl: `${as.issuer}/token`, apiBaseUrl: api.url, refreshLeewaySeconds: 1 });

describe('clientCredentials', () => {
  it('should make one token request for 20 concurrent callers and call the API with it', async () => {
    const backend = clientCredentials(svc());
    const tokens = await Promise.all(Array.from({ length: 20 }, () => backend.getToken()));
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect((await as.tokenRequests()).map((r) => [r.grantType, r.clientId, r.authMethod, r.status])).toEqual([['client_credentials', 'svc', 'client_secret_basic', 200]]);
    const me = await backend.get('/api/me');
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ client_id: 'svc', via: 'introspection' });
    expect(await as.tokenRequests()).toHaveLength(1);
  });

  it('should renew the token before it expires, exactly once', async () => {
    const backend = clientCredentials(svc());
    const first = await backend.getToken();
    await new Promise((r) => setTimeout(r, 1100)); // 2 s lifetime, 1 s leeway
    const again = await Promise.all([backend.getToken(), backend.getToken(), backend.get('/api/me')]);
    expect(again[0].accessToken).not.toBe(first.accessToken);
    expect(again[1].accessToken).toBe(again[0].accessToken);
    expect(again[2].status).toBe(200);
    expect((await as.tokenRequests('client_credentials')).length).toBe(2);
  });

  it('should get a new token once and retry on 401 invalid_token', async () => {
    const backend = clientCredentials({ ...svc(), refreshLeewaySeconds: 0 });
    await backend.getToken();
    api.rejectNext(1);
    expect((await backend.get('/api/me')).status).toBe(200);
    expect((await as.tokenRequests('client_credentials')).length).toBe(2);
  });

  it('should validate its options with a TypeError naming the option', () => {
    expect(() => clientCredentials({ ...svc(), tokenUrl: 'http://as.example/token' })).toThrow('oauthMiddleware: `clientCredentials.tokenUrl` must use https (http is allowed only for loopback hosts)');
    expect(() => clientCredentials({ ...svc(), clientId: '' })).toThrow('`clientCredentials.clientId` must be a non-empty string');
  });

  it('should never show the token in JSON', async () => {
    const backend = clientCredentials(svc());
    const token = await backend.getToken();
    expect(JSON.stringify(backend)).not.toContain(token.accessToken);
  });
});

describe('passwordGrant (discouraged, legacy providers)', () => {
  it('should send the password grant with client authentication and use the token', async () => {
    const bodies: URLSearchParams[] = [];
    const server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        bodies.push(new URLSearchParams(raw));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'legacy-at', token_type: 'bearer', expires_in: 3600 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/token`;
      const legacy = passwordGrant({ clientId: 'app', clientSecret: 's', tokenUrl: url, username: 'ann', password: 'pw', scope: 'read' });
      expect((await legacy.getToken()).accessToken).toBe('legacy-at');
      expect(Object.fromEntries(bodies[0] as URLSearchParams)).toEqual({ scope: 'read', grant_type: 'password', username: 'ann', password: 'pw' });
    } finally {
      server.close();
    }
  });
});
