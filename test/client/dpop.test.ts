import { readRecord, type TokenRecord } from '../../lib/session/token-record';
import request from 'supertest';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { clientCredentials } from 'express-oauth2-session';
import { expireAccessToken } from 'express-oauth2-session/testing';
import { DpopProofs, type DpopKey } from '../../lib/protocol/dpop';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { startDpopResourceServer, type DpopResourceServer } from '../support/dpop-resource-server';
import { login } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// RFC 9449 against the real AS (DPoP-bound tokens) and a resource server that verifies proofs
// and the token's cnf.jkt: login, req.oauth calls, refresh, nonces at the RS and at the AS,
// clientCredentials, and a token copied out of the store without its key.
let as: TestAuthorizationServer;
let rs: DpopResourceServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
  rs = await startDpopResourceServer({ issuer: as.issuer });
});
afterAll(async () => {
  await rs?.stop();
  await as?.stop();
});

function dpopApp(server: TestAuthorizationServer = as) {
  return createTestApp({
    oauth: providerOptions(server, { dpop: true, apiBaseUrl: rs.url }),
    routes: (app) =>
      app.get('/api', async (req, res, next) => {
        try {
          const r = await req.oauth.get('/api/me');
          res.status(r.status).json(await r.json());
        } catch (err) {
          next(err);
        }
      }),
  });
}

async function loggedIn(server: TestAuthorizationServer = as) {
  const test = dpopApp(server);
  const agent = request.agent(test.app);
  await login(agent);
  const sessionId = (await agent.get('/session')).body.sessionId as string;
  const record = async () => (await readRecord(test.store, `${sessionId}:oauth:default`, 2000)) as TokenRecord & { dpop: DpopKey };
  return { ...test, agent, sessionId, record };
}

const thumbprint = (key: DpopKey) => calculateJwkThumbprint({ kty: key.kty, crv: key.crv, x: key.x, y: key.y });

describe('dpop: true', () => {
  it('should keep a private ES256 key in the token record and call the API with a DPoP-bound token and a proof of that key', async () => {
    const { agent, record } = await loggedIn();
    const stored = await record();
    expect(Object.keys(stored.dpop).sort()).toEqual(['crv', 'd', 'kty', 'x', 'y']);
    expect([stored.dpop.kty, stored.dpop.crv, stored.tokens.tokenType]).toEqual(['EC', 'P-256', 'dpop']);
    const before = rs.seen.length;
    const res = await agent.get('/api').expect(200);
    expect(res.body).toEqual({ sub: 'alice', jkt: await thumbprint(stored.dpop), tokenType: 'DPoP' });
    expect(rs.seen.slice(before)).toEqual([{ scheme: 'DPoP', proof: true, nonce: undefined, outcome: 'ok' }]);
  });

  it("should have a token copied out of the store refused without the key, as Bearer, and with another key's proof", async () => {
    const { record } = await loggedIn();
    const { tokens } = await record();
    const api = `${rs.url}/api/me`;
    const call = (headers: Record<string, string>) => fetch(api, { headers }).then(async (r) => [r.status, r.headers.get('www-authenticate')]);
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const other = { ...(await exportJWK(privateKey)), kty: 'EC', crv: 'P-256' } as DpopKey;
    const foreignProof = await new DpopProofs().create(other, { method: 'GET', url: api, accessToken: tokens.accessToken });
    expect(await call({ authorization: `DPoP ${tokens.accessToken}` })).toEqual([401, 'DPoP error="invalid_token", algs="ES256"']);
    expect(await call({ authorization: `Bearer ${tokens.accessToken}` })).toEqual([401, 'DPoP error="invalid_token", algs="ES256"']);
    expect(await call({ authorization: `DPoP ${tokens.accessToken}`, dpop: foreignProof })).toEqual([401, 'DPoP error="invalid_token", algs="ES256"']);
    expect(await as.introspect(tokens.accessToken)).toBe(true);
  });

  it('should refresh with a proof of the same key: a new DPoP-bound token with the same jkt', async () => {
    const { agent, record, store, sessionId } = await loggedIn();
    const first = await record();
    await expireAccessToken(store, sessionId);
    await as.clearRequests();
    const res = await agent.get('/api').expect(200);
    const second = await record();
    expect((await as.tokenRequests()).map((r) => [r.grantType, r.status])).toEqual([['refresh_token', 200]]);
    expect(second.tokens.accessToken).not.toBe(first.tokens.accessToken);
    expect([second.tokens.tokenType, second.dpop]).toEqual(['dpop', first.dpop]);
    expect(res.body).toEqual({ sub: 'alice', jkt: await thumbprint(first.dpop), tokenType: 'DPoP' });
  });

  it("should retry once with the resource server's nonce on 401 use_dpop_nonce", async () => {
    const { agent } = await loggedIn();
    const nonce = rs.requireNonce();
    const before = rs.seen.length;
    await agent.get('/api').expect(200);
    expect(rs.seen.slice(before).map((s) => [s.outcome, s.nonce])).toEqual([
      ['use_dpop_nonce', undefined],
      ['ok', nonce],
    ]);
  });

  it("should retry the token request once with the AS's nonce when the AS answers use_dpop_nonce", async () => {
    const strict = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300, requireDPoPNonce: true });
    try {
      const { agent, record } = await loggedIn(strict);
      expect((await strict.tokenRequests()).map((r) => [r.grantType, r.status, r.error])).toEqual([
        ['authorization_code', 400, 'use_dpop_nonce'],
        ['authorization_code', 200, undefined],
      ]);
      expect((await record()).tokens.tokenType).toBe('dpop');
      expect((await agent.get('/session')).body.authenticated).toBe(true);
    } finally {
      await strict.stop();
    }
  });
});

describe('clientCredentials({ dpop: true })', () => {
  it('should get a DPoP-bound token and call the API with proofs of its own key', async () => {
    const backend = clientCredentials({ clientId: 'svc', clientSecret: 'svc-secret', tokenUrl: as.endpoints.token, apiBaseUrl: rs.url, dpop: true });
    const token = await backend.getToken();
    expect(token.tokenType).toBe('dpop');
    const res = await backend.get('/api/me');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: '', jkt: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), tokenType: 'DPoP' });
  });
});
