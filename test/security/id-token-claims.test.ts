import http from 'node:http';
import request from 'supertest';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload, type KeyLike } from 'jose';
import { verifyIdToken, verifyRefreshedIdToken } from '../../lib/protocol/id-token';
import { DpopProofs } from '../../lib/protocol/dpop';
import { RemoteKeySets } from '../../lib/protocol/jwks';
import { TokenEndpointClient } from '../../lib/protocol/token-endpoint';
import { readRecord, recordKey } from '../../lib/session/token-record';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { login } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Issue 13 #4: ID-token claim rules. The real AS (oidc-provider) only issues well-formed tokens, so
// the faulty ones are signed here with a key served from a local JWKS endpoint.
const ISSUER = 'https://issuer.example';
const CLIENT = 'client-1';
const NOW = 1_800_000_000;
let key: KeyLike;
let jwks: http.Server;
let jwksUri: string;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  key = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  jwks = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', () => resolve()));
  jwksUri = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/jwks`;
});
afterAll(() => new Promise((resolve) => jwks.close(resolve)));

function sign(claims: JWTPayload): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(key);
}

const base = { iss: ISSUER, aud: CLIENT, sub: 'user-7', iat: NOW - 10, exp: NOW + 600, nonce: 'n-1' };
const expected = () => ({ issuer: ISSUER, clientId: CLIENT, jwksUri, keys: new RemoteKeySets({ fetch: (input, init) => fetch(input, init), timeoutMs: 2000 }), currentDate: new Date(NOW * 1000) });

async function rejection(promise: Promise<unknown>): Promise<{ message: string; code: string; status: number }> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: { message: string; code: string; status: number }) => ({ message: err.message, code: err.code, status: err.status }),
  );
}

describe('verifyIdToken (login)', () => {
  it('should return the claims of a valid token', async () => {
    expect(await verifyIdToken(await sign(base), { ...expected(), nonce: 'n-1' })).toEqual(base);
  });

  it.each([
    ['no exp', { exp: undefined }, 'The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: exp).'],
    ['no iat', { iat: undefined }, 'The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: iat).'],
    ['a textual iat', { iat: 'yesterday' }, 'The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: iat).'],
    ['iat 60 s in the future', { iat: NOW + 60 }, 'The ID token was issued in the future (iat); check the server clocks.'],
    ['iat 6 s in the future (skew is 5 s)', { iat: NOW + 6 }, 'The ID token was issued in the future (iat); check the server clocks.'],
    ['an expired exp', { exp: NOW - 6 }, 'The ID token failed verification (ERR_JWT_EXPIRED: exp).'],
    ['two audiences and no azp', { aud: [CLIENT, 'other'] }, 'The ID token has several audiences but no azp claim.'],
    ['two audiences and a foreign azp', { aud: [CLIENT, 'other'], azp: 'other' }, 'The ID token azp claim names another client.'],
    ['one audience and a foreign azp', { azp: 'other' }, 'The ID token azp claim names another client.'],
    ['an empty sub', { sub: '' }, 'The ID token has no sub claim.'],
    ['another nonce', { nonce: 'n-2' }, 'The ID token nonce does not match this login.'],
  ])('should reject %s', async (_name, change, message) => {
    const token = await sign({ ...base, ...change } as JWTPayload);
    expect(await rejection(verifyIdToken(token, { ...expected(), nonce: 'n-1' }))).toEqual({ message, code: 'OAUTH_ID_TOKEN_INVALID', status: 502 });
  });

  it.each([
    ['iat 4 s in the future (within skew)', { iat: NOW + 4 }],
    ['two audiences with azp = client_id', { aud: [CLIENT, 'other'], azp: CLIENT }],
    ['one audience with azp = client_id', { azp: CLIENT }],
  ])('should accept %s', async (_name, change) => {
    const claims = await verifyIdToken(await sign({ ...base, ...change }), { ...expected(), nonce: 'n-1' });
    expect(claims.sub).toBe('user-7');
  });
});

describe('verifyRefreshedIdToken (OIDC Core §12.2)', () => {
  const original = { iss: ISSUER, sub: 'user-7', auth_time: NOW - 100, nonce: 'n-1' };
  const refreshed = { iss: ISSUER, aud: CLIENT, sub: 'user-7', iat: NOW, exp: NOW + 600, auth_time: NOW - 100 };

  it("should accept a token with the login's iss, sub and auth_time and no nonce", async () => {
    expect(await verifyRefreshedIdToken(await sign(refreshed), { ...expected(), original })).toEqual(refreshed);
  });

  it.each([
    ['another sub', { sub: 'user-8' }, 'The refreshed ID token names another user (sub) than the login.'],
    ['another auth_time', { auth_time: NOW - 5 }, 'The refreshed ID token has another auth_time than the login.'],
    ["another nonce than the login's", { nonce: 'n-other' }, 'The refreshed ID token has another nonce than the login.'],
    ['no iat', { iat: undefined }, 'The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: iat).'],
    ['iat in the future', { iat: NOW + 60 }, 'The ID token was issued in the future (iat); check the server clocks.'],
    ['two audiences and no azp', { aud: [CLIENT, 'x'] }, 'The ID token has several audiences but no azp claim.'],
  ])('should reject %s', async (_name, change, message) => {
    const token = await sign({ ...refreshed, ...change } as JWTPayload);
    expect(await rejection(verifyRefreshedIdToken(token, { ...expected(), original }))).toEqual({ message, code: 'OAUTH_ID_TOKEN_INVALID', status: 502 });
  });

  it("should reject a token whose issuer differs from the login's even when it is the configured one", async () => {
    const token = await sign(refreshed);
    const err = await rejection(verifyRefreshedIdToken(token, { ...expected(), original: { ...original, iss: 'https://old-issuer.example' } }));
    expect(err.message).toBe('The refreshed ID token has another issuer than the login.');
  });
});

describe('verifyRefreshedIdToken against the real authorization server', () => {
  let as: TestAuthorizationServer;
  beforeAll(async () => {
    as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI] });
  });
  afterAll(() => as.stop());

  it('should accept the ID token of a real refresh response and refuse it for another user', async () => {
    const { app, store } = createTestApp({ oauth: providerOptions(as) });
    const agent = request.agent(app);
    await login(agent, { user: 'alice' });
    const sid = (await agent.get('/session')).body.sessionId as string;
    const record = await readRecord(store, recordKey(sid, 'default'), 2000);
    // Without an end-session endpoint the record keeps only the claims a refresh is checked against.
    const loginClaims = record?.idTokenClaims as { iss: string; sub: string; nonce: string };
    expect([record?.tokens.idToken, Object.keys(loginClaims)]).toEqual([undefined, ['iss', 'sub', 'nonce']]);
    const client = as.clients[0]!;
    const config = { clientId: client.id, clientSecret: client.secret, authMethod: 'client_secret_basic' as const, timeoutMs: 5000 };
    const body = await new TokenEndpointClient({ config, proofs: new DpopProofs() }).refreshGrant(as.endpoints.token, record?.tokens.refreshToken as string);
    const real = { issuer: as.issuer, clientId: client.id, jwksUri: as.endpoints.jwks, keys: new RemoteKeySets({ fetch: (input, init) => fetch(input, init), timeoutMs: 5000 }) };
    const original = loginClaims;
    const claims = await verifyRefreshedIdToken(body.id_token as string, { ...real, original });
    expect([claims.iss, claims.sub, claims.nonce]).toEqual([as.issuer, 'alice', loginClaims.nonce]); // oidc-provider repeats the login's nonce
    const err = await rejection(verifyRefreshedIdToken(body.id_token as string, { ...real, original: { ...original, sub: 'mallory' } }));
    expect(err.message).toBe('The refreshed ID token names another user (sub) than the login.');
  });
});
