import request from 'supertest';
import { readRecord, type TokenRecord } from '../../lib/session/token-record';
import { startFapiProvider, type FapiProvider } from '../support/fapi-provider';
import { authorize, pathOf } from '../support/login-flow';
import { createTestApp } from '../support/test-app';

// FAPI 2.0 logins against oidc-provider in its FAPI 2.0 mode (PAR required): private_key_jwt +
// DPoP, JAR + JARM (Message Signing), and mTLS client authentication with certificate-bound tokens.
let fapi: FapiProvider;
beforeAll(async () => {
  fapi = await startFapiProvider();
});
afterAll(() => fapi?.as.stop());
beforeEach(() => fapi.as.clearRequests());

async function loggedIn(oauth: Parameters<typeof createTestApp>[0]['oauth']) {
  const test = createTestApp({
    oauth,
    routes: (app) => {
      app.get('/userinfo', async (req, res, next) => {
        try {
          res.json(await req.oauth.userinfo());
        } catch (err) {
          next(err);
        }
      });
      app.get('/plain-api', async (req, res, next) => {
        try {
          res.status((await req.oauth.get(`${fapi.as.issuer}/me`)).status).end();
        } catch (err) {
          next(err);
        }
      });
    },
  });
  const agent = request.agent(test.app);
  const { authorizationUrl, callbackUrl } = await authorize(agent);
  await agent.get(pathOf(callbackUrl)).expect(303);
  const sessionId = (await agent.get('/session')).body.sessionId as string;
  const record = (await readRecord(test.store, `${sessionId}:oauth:default`, 2000)) as TokenRecord;
  return { ...test, agent, authorizationUrl, callbackUrl, record };
}
const seen = async () => (await fapi.as.requests()).map((r) => [r.endpoint, r.clientId, r.authMethod, r.grantType ?? null, r.status]);

describe("profile: 'fapi2'", () => {
  it('should log in with private_key_jwt and DPoP: PAR, a DPoP-bound token, the user known', async () => {
    const { agent, authorizationUrl, record } = await loggedIn(fapi.dpopOptions());
    expect([...new URL(authorizationUrl).searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect(record.tokens.tokenType).toBe('dpop');
    expect((await agent.get('/session')).body.user.sub).toBe('alice');
    expect(await seen()).toEqual([
      ['/request', 'fapi-dpop', 'private_key_jwt', null, 201],
      ['/token', 'fapi-dpop', 'private_key_jwt', 'authorization_code', 200],
    ]);
  });

  it("should log in with 'fapi2-message-signing': a signed request object pushed, a JWT response verified", async () => {
    const { agent, callbackUrl, record } = await loggedIn(fapi.signedOptions());
    expect([...new URL(callbackUrl).searchParams.keys()]).toEqual(['response']);
    expect(record.tokens.tokenType).toBe('dpop');
    expect((await agent.get('/session')).body.user.sub).toBe('alice');
    expect(await seen()).toEqual([
      ['/request', 'fapi-signed', 'private_key_jwt', null, 201],
      ['/token', 'fapi-signed', 'private_key_jwt', 'authorization_code', 200],
    ]);
  });

  it('should log in with tls_client_auth through the mTLS aliases and get a certificate-bound token it uses with the certificate', async () => {
    const { agent, record } = await loggedIn(fapi.mtlsOptions());
    expect(record.tokens.tokenType).toBe('bearer');
    const mtls = fapi.as.endpoints.mtls!;
    const userinfo = await agent.get('/userinfo').expect(200);
    expect(userinfo.body.sub).toBe('alice');
    // The same token from another client without the certificate is refused by the AS.
    const plain = await fetch(fapi.as.endpoints.userinfo, { headers: { authorization: `Bearer ${record.tokens.accessToken}` } });
    expect(plain.status).toBe(401);
    expect(mtls.token_endpoint.startsWith('https://')).toBe(true);
    await agent.post('/logout').expect(303);
    expect(await seen()).toEqual([
      ['/request', 'fapi-mtls', 'tls_client_auth', null, 201],
      ['/token', 'fapi-mtls', 'tls_client_auth', 'authorization_code', 200],
      ['/token/revocation', 'fapi-mtls', 'tls_client_auth', null, 200],
      ['/token/revocation', 'fapi-mtls', 'tls_client_auth', null, 200],
    ]);
    expect(await fapi.as.introspect(record.tokens.accessToken)).toBe(false);
  });

  it('should log in with self_signed_tls_client_auth (a self-signed certificate registered by its key) and get a certificate-bound token', async () => {
    const { agent, record } = await loggedIn(fapi.selfSignedMtlsOptions());
    expect(record.tokens.tokenType).toBe('bearer');
    expect((await agent.get('/userinfo').expect(200)).body.sub).toBe('alice');
    const plain = await fetch(fapi.as.endpoints.userinfo, { headers: { authorization: `Bearer ${record.tokens.accessToken}` } });
    expect(plain.status).toBe(401);
    expect(await seen()).toEqual([
      ['/request', 'fapi-mtls-self', 'self_signed_tls_client_auth', null, 201],
      ['/token', 'fapi-mtls-self', 'self_signed_tls_client_auth', 'authorization_code', 200],
    ]);
  });

  it('should be refused (invalid_client, no login) when its self-signed certificate is not the registered one', async () => {
    const test = createTestApp({ oauth: fapi.selfSignedMtlsOptions({ tlsClientCertificate: { cert: fapi.pki.other.cert, key: fapi.pki.other.key, ca: fapi.pki.ca } }) });
    const res = await request(test.app).get('/login');
    expect([res.status, res.body.code]).toEqual([500, 'OAUTH_TOKEN_ENDPOINT_ERROR']);
    expect(await seen()).toEqual([['/request', 'fapi-mtls-self', 'self_signed_tls_client_auth', null, 401]]);
  });

  it('should refuse to send a certificate-bound token over plain http (no certificate there), before any byte leaves', async () => {
    const { agent } = await loggedIn(fapi.mtlsOptions({ allowedOrigins: [fapi.as.endpoints.mtls!.origin, new URL(fapi.as.issuer).origin] }));
    const res = await agent.get('/plain-api').expect(500);
    expect(res.body.code).toBe('OAUTH_MTLS_REQUIRED');
  });
});
