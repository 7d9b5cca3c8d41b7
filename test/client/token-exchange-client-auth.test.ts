import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import type { Express } from 'express';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { DpopProofs, type DpopKey } from '../../lib/protocol/dpop';
import { readRecord, type TokenRecord } from '../../lib/session/token-record';
import { login } from '../support/login-flow';
import { bearerOf, jwtPayload, startSeveralApis, type SeveralApis } from '../support/several-apis';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// RFC 8693 token exchange (issue 21 item 3) through the client authentications that are not a
// client secret: private_key_jwt (RFC 7523) and DPoP (RFC 9449, the exchanged token bound to the
// login's key), against the test provider's token-exchange grant and audience-checking APIs that
// verify DPoP proofs.
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwks = { keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1' }] };
const client = (id: string, extra: Record<string, unknown>) => ({
  client_id: id,
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: [REDIRECT_URI],
  token_endpoint_auth_method: 'private_key_jwt',
  jwks,
  ...extra,
});
const privateKeyJwt = (clientId: string) => ({
  clientId,
  clientSecret: undefined,
  tokenEndpointAuthMethod: 'private_key_jwt',
  clientAssertionKey: { ...rsa.privateKey.export({ format: 'jwk' }), kid: 'rsa-1' },
});

let env: SeveralApis;
beforeAll(async () => {
  env = await startSeveralApis({ tokenExchange: true, extraClients: [client('rp-pkjwt', {}), client('rp-pkjwt-dpop', { dpop_bound_access_tokens: true })] });
});
afterAll(() => env.stop());
beforeEach(() => {
  env.servers.partner.seen.length = 0;
});

function routes(app: Express): void {
  app.get('/partner', async (req, res, next) => {
    try {
      const r = await req.oauth.api('partner').get('/items');
      res.status(r.status).json(await r.json());
    } catch (err) {
      next(err);
    }
  });
  app.get('/exchange', async (req, res, next) => {
    try {
      const token = await req.oauth.exchange({ audience: env.apis.billing.resource, scope: 'billing:read' });
      const claims = jwtPayload(token.accessToken);
      res.json({ tokenType: token.tokenType, aud: claims.aud, sub: claims.sub, jkt: (claims.cnf as { jkt?: string } | undefined)?.jkt ?? null });
    } catch (err) {
      next(err);
    }
  });
}

async function loggedIn(overrides: Record<string, unknown>) {
  const apis = { partner: { url: env.apis.partner.url, exchange: { audience: env.apis.partner.resource, scope: 'partner:read' } } };
  const { app, store } = createTestApp({ oauth: { ...providerOptions(env.as, overrides), apis }, routes });
  const agent = request.agent(app);
  await login(agent);
  const sessionId = (await agent.get('/session')).body.sessionId as string;
  const record = async () => (await readRecord(store, `${sessionId}:oauth:default`, 2000)) as TokenRecord;
  await env.as.clearRequests();
  return { agent, record };
}

const exchanges = async () => (await env.as.tokenRequests()).map((r) => [r.grantType, r.clientId, r.authMethod, r.status]);
const thumbprint = (key: DpopKey) => calculateJwkThumbprint({ kty: key.kty, crv: key.crv, x: key.x, y: key.y });
/** Call the partner API directly with a token (no library): what a token copied out of the store gets. */
const direct = (headers: Record<string, string>) => fetch(`${env.apis.partner.url}/items`, { headers }).then((r) => r.status);

describe('token exchange with private_key_jwt', () => {
  it('should authenticate the exchange of an `exchange` API and of req.oauth.exchange() with a client assertion', async () => {
    const { agent, record } = await loggedIn(privateKeyJwt('rp-pkjwt'));
    const partner = await agent.get('/partner').expect(200);
    expect(partner.body).toEqual({ path: '/partner/items', method: 'GET', aud: env.apis.partner.resource, sub: 'alice', scope: 'partner:read' });
    const billing = await agent.get('/exchange').expect(200);
    expect(billing.body).toEqual({ tokenType: 'bearer', aud: env.apis.billing.resource, sub: 'alice', jkt: null });
    expect(await exchanges()).toEqual([
      [TOKEN_EXCHANGE, 'rp-pkjwt', 'private_key_jwt', 200],
      [TOKEN_EXCHANGE, 'rp-pkjwt', 'private_key_jwt', 200],
    ]);
    const [header] = env.servers.partner.seen;
    expect(header!.startsWith('Bearer ')).toBe(true);
    const stored = Object.values((await record()).apis ?? {});
    expect(stored.map((t) => t.tokenType)).toEqual(['bearer', 'bearer']);
    expect(stored.map((t) => t.accessToken)).toContain(bearerOf(header!));
  });
});

describe.each([
  ['client_secret_basic', 'rp-basic', {}],
  ['private_key_jwt', 'rp-pkjwt-dpop', privateKeyJwt('rp-pkjwt-dpop')],
] as const)('token exchange with dpop: true (%s)', (method, clientId, auth) => {
  it("should get DPoP-bound exchanged tokens for the login's key and call the API as DPoP with a proof of it", async () => {
    const { agent, record } = await loggedIn({ ...auth, dpop: true });
    const { dpop, tokens } = await record();
    const jkt = await thumbprint(dpop!);
    expect(tokens.tokenType).toBe('dpop');
    const partner = await agent.get('/partner').expect(200);
    expect(partner.body).toEqual({ path: '/partner/items', method: 'GET', aud: env.apis.partner.resource, sub: 'alice', scope: 'partner:read', jkt });
    const billing = await agent.get('/exchange').expect(200);
    expect(billing.body).toEqual({ tokenType: 'dpop', aud: env.apis.billing.resource, sub: 'alice', jkt });
    expect(await exchanges()).toEqual([
      [TOKEN_EXCHANGE, clientId, method, 200],
      [TOKEN_EXCHANGE, clientId, method, 200],
    ]);
    const [header] = env.servers.partner.seen;
    expect(header!.startsWith('DPoP ')).toBe(true);
    const stored = Object.values((await record()).apis ?? {});
    expect(stored.map((t) => t.tokenType)).toEqual(['dpop', 'dpop']);
    // Bound: the same token copied out of the store is refused without a proof of its key.
    const token = bearerOf(header!);
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const other = { ...(await exportJWK(privateKey)), kty: 'EC', crv: 'P-256' } as DpopKey;
    const foreign = await new DpopProofs().create(other, { method: 'GET', url: `${env.apis.partner.url}/items`, accessToken: token });
    expect([await direct({ authorization: `DPoP ${token}` }), await direct({ authorization: `Bearer ${token}` }), await direct({ authorization: `DPoP ${token}`, dpop: foreign })]).toEqual([
      401, 401, 401,
    ]);
  });

  it('should exchange again with a proof of the same key when the API refuses the token', async () => {
    const { agent, record } = await loggedIn({ ...auth, dpop: true });
    await agent.get('/partner').expect(200);
    env.servers.partner.rejectNext(1);
    const again = await agent.get('/partner').expect(200);
    expect(again.body.jkt).toBe(await thumbprint((await record()).dpop!));
    expect(await exchanges()).toEqual([
      [TOKEN_EXCHANGE, clientId, method, 200],
      [TOKEN_EXCHANGE, clientId, method, 200],
    ]);
    const sent = env.servers.partner.seen.map(bearerOf);
    expect([sent.length, sent[1] === sent[0], sent[2] === sent[1]]).toEqual([3, true, false]);
  });
});

describe("the test kit's exchange grant and DPoP (what the tests above rely on)", () => {
  const exchange = (subjectToken: string, proof?: string) =>
    fetch(env.as.endpoints.token, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('rp-basic:rp-basic-secret').toString('base64')}`, ...(proof ? { dpop: proof } : {}) },
      body: new URLSearchParams({ grant_type: TOKEN_EXCHANGE, subject_token: subjectToken, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', audience: env.apis.billing.resource }),
    }).then(async (r) => {
      const body = (await r.json()) as { token_type?: string; access_token?: string; error?: string };
      return [r.status, body.token_type ?? body.error, body.access_token ? ((jwtPayload(body.access_token).cnf as { jkt?: string } | undefined)?.jkt ?? null) : null];
    });

  it('should bind to the proof key, issue Bearer without a proof, and refuse a replayed proof or one for another URL', async () => {
    const { record } = await loggedIn({ dpop: true });
    const { dpop, tokens } = await record();
    const proofs = new DpopProofs();
    const proof = await proofs.create(dpop!, { method: 'POST', url: env.as.endpoints.token });
    expect(await exchange(tokens.accessToken, proof)).toEqual([200, 'DPoP', await thumbprint(dpop!)]);
    expect(await exchange(tokens.accessToken, proof)).toEqual([400, 'invalid_dpop_proof', null]);
    expect(await exchange(tokens.accessToken, await proofs.create(dpop!, { method: 'POST', url: env.as.endpoints.revocation }))).toEqual([400, 'invalid_dpop_proof', null]);
    expect(await exchange(tokens.accessToken)).toEqual([200, 'Bearer', null]);
  });
});
