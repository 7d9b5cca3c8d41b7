import { generateKeyPairSync } from 'node:crypto';
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { clientCredentials, oauthErrorHandler, oauthMiddleware, type OAuthMiddlewareOptions, type TokenEndpointError } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { authorize, login, pathOf } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// RFC 7523 client authentication against the real AS: every token-endpoint, revocation and PAR
// call of a private_key_jwt / client_secret_jwt client carries a fresh signed assertion.
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const HS_SECRET = 'rp-hs-secret-which-is-long-enough-for-hs256';
const grants = ['authorization_code', 'refresh_token', 'client_credentials'];
const client = (id: string, extra: Record<string, unknown>) => ({ client_id: id, grant_types: grants, response_types: ['code'], redirect_uris: [REDIRECT_URI], ...extra });

let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({
    redirectUris: [REDIRECT_URI],
    accessTokenTTL: 300,
    extraClients: [
      client('rp-pkjwt', { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1' }] } }),
      client('rp-pkjwt-ec', { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [ec.publicKey.export({ format: 'jwk' })] } }),
      client('rp-hsjwt', { token_endpoint_auth_method: 'client_secret_jwt', client_secret: HS_SECRET }),
    ],
  });
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

const privateKeyJwt: Record<string, unknown> = { clientId: 'rp-pkjwt', tokenEndpointAuthMethod: 'private_key_jwt', clientAssertionKey: { ...rsa.privateKey.export({ format: 'jwk' }), kid: 'rsa-1' } };
const clientSecretJwt: Record<string, unknown> = { clientId: 'rp-hsjwt', clientSecret: HS_SECRET, tokenEndpointAuthMethod: 'client_secret_jwt' };

function app(oauth: OAuthMiddlewareOptions) {
  return createTestApp({
    oauth,
    routes: (a) =>
      a.post('/refresh', async (req, res, next) => {
        try {
          res.json({ changed: (await req.oauth.refresh()).accessToken !== undefined });
        } catch (err) {
          next(err);
        }
      }),
  }).app;
}
const seen = async () => (await as.requests()).map((r) => [r.endpoint, r.clientId, r.authMethod, r.grantType ?? null, r.status]);

describe.each([
  ['private_key_jwt', privateKeyJwt, 'rp-pkjwt'],
  ['client_secret_jwt', clientSecretJwt, 'rp-hsjwt'],
] as const)('tokenEndpointAuthMethod %s', (method, options, clientId) => {
  it('should authenticate the code exchange, the refresh and both revocations with an assertion', async () => {
    const agent = request.agent(app(providerOptions(as, { clientSecret: undefined, ...options })));
    await login(agent);
    expect((await agent.post('/refresh').expect(200)).body).toEqual({ changed: true });
    await agent.post('/logout').expect(303);
    expect(await seen()).toEqual([
      ['/token', clientId, method, 'authorization_code', 200],
      ['/token', clientId, method, 'refresh_token', 200],
      ['/token/revocation', clientId, method, null, 200],
      ['/token/revocation', clientId, method, null, 200],
    ]);
  });

  it('should authenticate the pushed authorization request the same way', async () => {
    const oauth = { ...providerOptions(as, { clientSecret: undefined, ...options }), authorizationUrl: undefined, jwksUri: undefined, pushedAuthorizationRequests: true };
    await login(request.agent(app(oauth as OAuthMiddlewareOptions)));
    expect(await seen()).toEqual([
      ['/request', clientId, method, null, 201],
      ['/token', clientId, method, 'authorization_code', 200],
    ]);
  });

  it('should get a clientCredentials token with an assertion', async () => {
    const backend = clientCredentials({ ...options, tokenUrl: as.endpoints.token, issuer: as.issuer } as never);
    expect((await backend.getToken()).tokenType).toBe('bearer');
    expect(await seen()).toEqual([['/token', clientId, method, 'client_credentials', 200]]);
  });
});

describe('private_key_jwt edge cases', () => {
  it('should use the token endpoint URL as aud without an issuer, and an EC key (ES256)', async () => {
    const backend = clientCredentials({ clientId: 'rp-pkjwt-ec', tokenEndpointAuthMethod: 'private_key_jwt', clientAssertionKey: ec.privateKey, tokenUrl: as.endpoints.token });
    await backend.getToken();
    expect(await seen()).toEqual([['/token', 'rp-pkjwt-ec', 'private_key_jwt', 'client_credentials', 200]]);
  });

  it('should answer 500 invalid_client at the callback and never show the assertion', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const caught: unknown[] = [];
    const server = express();
    server.use(session({ secret: 'test-session-secret', resave: false, saveUninitialized: false }));
    server.use(oauthMiddleware(providerOptions(as, { ...privateKeyJwt, clientSecret: undefined, clientAssertionKey: other })));
    server.use((err: unknown, _req: express.Request, _res: express.Response, next: express.NextFunction) => next((caught.push(err), err)));
    server.use(oauthErrorHandler());
    const agent = request.agent(server);
    const { callbackUrl } = await authorize(agent);
    const cb = await agent.get(pathOf(callbackUrl)).expect(500);
    expect(cb.body).toEqual({ error: 'TokenEndpointError', code: 'OAUTH_TOKEN_ENDPOINT_ERROR', message: 'The sign-in service failed; try again.' });
    const err = caught[0] as TokenEndpointError;
    expect([caught.length, err.status, err.error, err.message]).toEqual([1, 500, 'invalid_client', 'The token endpoint rejected the request with "invalid_client" (HTTP 401).']);
    expect(JSON.stringify([err, err.message, err.errorDescription, String(err.cause ?? '')])).not.toMatch(/eyJ/); // no JWS anywhere
    expect(await seen()).toEqual([['/token', 'rp-pkjwt', 'private_key_jwt', 'authorization_code', 401]]);
  });
});
