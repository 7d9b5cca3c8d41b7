import http from 'node:http';
import { clientCredentials, passwordGrant, type GrantClient } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { startResourceServer, type ResourceServer } from '../support/resource-server';

// Backend grants: client credentials against the real AS (its `svc` client), and the discouraged
// password grant against a local token endpoint (oidc-provider has no password grant).
const TTL_S = 60;
let as: TestAuthorizationServer;
let api: ResourceServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ clientCredentialsTTL: TTL_S });
  api = await startResourceServer({ issuer: as.issuer });
});
afterAll(async () => {
  await api.stop();
  await as.stop();
});
beforeEach(() => as.clearRequests());
afterEach(() => jest.restoreAllMocks());

const svc = () => ({ clientId: 'svc', clientSecret: 'svc-secret', tokenUrl: `${as.issuer}/token`, apiBaseUrl: api.url, refreshLeewaySeconds: 10 });

const realNow = Date.now.bind(Date);
/** Move this process's clock `seconds` further ahead (the AS keeps real time). */
function advanceClock(seconds: number): void {
  const offset = Date.now() - realNow() + seconds * 1000;
  jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
}

const twenty = (backend: GrantClient) => Promise.all(Array.from({ length: 20 }, () => backend.getToken()));

describe('clientCredentials', () => {
  it('should make one token request for 20 concurrent callers and call the API with it', async () => {
    const backend = clientCredentials(svc());
    const tokens = await twenty(backend);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect((await as.tokenRequests()).map((r) => [r.grantType, r.clientId, r.authMethod, r.status])).toEqual([['client_credentials', 'svc', 'client_secret_basic', 200]]);
    const me = await backend.get('/api/me');
    expect([me.status, await me.json()]).toEqual([200, { client_id: 'svc', via: 'introspection' }]);
    expect(await as.tokenRequests()).toHaveLength(1);
  });

  it('should renew once inside the leeway (before expiry) and once after expiry, 20 concurrent callers each time', async () => {
    const backend = clientCredentials(svc());
    const first = await backend.getToken();
    advanceClock(TTL_S - 11);
    expect((await twenty(backend)).map((t) => t.accessToken)).toEqual(Array(20).fill(first.accessToken)); // 11 s left > 10 s leeway
    expect(await as.tokenRequests()).toHaveLength(1);

    advanceClock(2); // 9 s left: inside the leeway, not yet expired
    const second = await twenty(backend);
    expect(new Set(second.map((t) => t.accessToken))).toEqual(new Set([second[0]?.accessToken]));
    expect(second[0]?.accessToken).not.toBe(first.accessToken);
    expect(await as.tokenRequests()).toHaveLength(2);

    advanceClock(TTL_S + 1); // past the second token's expiry
    const third = await Promise.all([...Array.from({ length: 19 }, () => backend.getToken()), backend.get('/api/me')]);
    expect((third[19] as Response).status).toBe(200);
    expect(new Set(third.slice(0, 19).map((t) => (t as { accessToken: string }).accessToken)).size).toBe(1);
    expect((await as.tokenRequests('client_credentials')).length).toBe(3);
  });

  it('should reject every waiter of a failed token request and try again on the next call', async () => {
    const backend = clientCredentials(svc());
    await as.failNext({ path: '/token', status: 503, body: { error: 'temporarily_unavailable' }, count: 1 }); // a 2nd request would succeed
    const failed = await Promise.allSettled(Array.from({ length: 5 }, () => backend.getToken()));
    expect(failed.map((r) => (r.status === 'rejected' ? [(r.reason as { status: number }).status, (r.reason as { code: string }).code] : 'ok'))).toEqual(
      Array(5).fill([503, 'OAUTH_TOKEN_ENDPOINT_ERROR']),
    );
    expect((await backend.get('/api/me')).status).toBe(200);
    expect((await as.tokenRequests()).map((r) => r.status)).toEqual([200]); // the injected 503 never reaches the AS log
  });

  it('should get a new token once and retry on 401 invalid_token', async () => {
    const backend = clientCredentials(svc());
    await backend.getToken();
    api.rejectNext(1);
    expect((await backend.get('/api/me')).status).toBe(200);
    expect((await as.tokenRequests('client_credentials')).length).toBe(2);
  });

  it('should validate its options with a TypeError naming the option', () => {
    const cases: Array<[object, string]> = [
      [{ tokenUrl: 'http://as.example/token' }, '`tokenUrl` must use https (http is allowed only for loopback hosts)'],
      [{ clientId: '' }, '`clientId` must be a non-empty string'],
      [{ clientSecret: undefined, tokenEndpointAuthMethod: 'client_secret_post' }, '`clientSecret` is required with tokenEndpointAuthMethod "client_secret_post"'],
      [{ refreshLeewaySeconds: -1 }, '`refreshLeewaySeconds` must be a number ≥ 0'],
      [{ allowedOrigins: ['https://api.example/path'] }, '`allowedOrigins[0]` must be an origin (scheme://host[:port]) with no path'],
    ];
    for (const [override, message] of cases) expect(() => clientCredentials({ ...svc(), ...override })).toThrow(new TypeError(`clientCredentials: ${message}`));
  });

  it('should never show the token in JSON or refuse an origin outside the allow-list without a token request', async () => {
    const backend = clientCredentials(svc());
    const token = await backend.getToken();
    expect(JSON.stringify(backend)).not.toContain(token.accessToken);
    await expect(backend.get('https://elsewhere.example/x')).rejects.toMatchObject({ code: 'OAUTH_ORIGIN_NOT_ALLOWED' });
    expect(await as.tokenRequests()).toHaveLength(1);
  });
});

describe('passwordGrant (discouraged, legacy providers)', () => {
  it('should send the password grant with client authentication, cache the token, and validate its options', async () => {
    const calls: Array<{ auth: string | undefined; form: URLSearchParams }> = [];
    const server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        calls.push({ auth: req.headers.authorization, form: new URLSearchParams(raw) });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'legacy-at', token_type: 'bearer', expires_in: 3600 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const options = { clientId: 'app', clientSecret: 's', tokenUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}/token`, username: 'ann', password: 'pw', scope: 'read' };
      const legacy = passwordGrant(options);
      const tokens = await Promise.all([legacy.getToken(), legacy.getToken(), legacy.getToken()]);
      expect(tokens.map((t) => t.accessToken)).toEqual(['legacy-at', 'legacy-at', 'legacy-at']);
      expect(calls.map((c) => [c.auth, Object.fromEntries(c.form)])).toEqual([
        [`Basic ${Buffer.from('app:s').toString('base64')}`, { scope: 'read', grant_type: 'password', username: 'ann', password: 'pw' }],
      ]);
      expect(() => passwordGrant({ ...options, password: '' })).toThrow(new TypeError('passwordGrant: `password` must be a non-empty string'));
    } finally {
      server.close();
    }
  });
});
