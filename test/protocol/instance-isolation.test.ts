import http from 'node:http';
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { decodeProtectedHeader, decodeJwt, exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { clientCredentials, oauthMiddleware, type GrantClient, type OAuthMiddleware } from 'express-oauth2-session';
import type { FetchLike } from '../../lib/config/options';
import { BACKCHANNEL_LOGOUT_EVENT } from '../../lib/protocol/logout-token';

// Issue 20 item 3: no process-global state. Two middleware instances (and two backend clients)
// pointed at the same issuer, JWKS URL and API origin, each with its own `fetch`: each calls its
// own fetch and gets its own answer. Discovery documents, key sets and DPoP nonces are owned by
// the instance (its provider links) or the grant client, never shared through a module cache.
const ISSUER = 'https://issuer.test';
const JWKS_URI = `${ISSUER}/jwks`;
const CLIENT_ID = 'rp';

interface Provider {
  fetch: FetchLike;
  calls: string[];
  key: KeyLike;
}

/** A provider seen through one instance's `fetch`: its own discovery document and its own signing key (same `kid` for all). */
async function provider(label: string, options: { jwksFails?: boolean } = {}): Promise<Provider> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const calls: string[] = [];
  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const fetch: FetchLike = async (input) => {
    const url = String(input);
    calls.push(url.replace(ISSUER, ''));
    if (url === `${ISSUER}/.well-known/openid-configuration`) {
      return json({ issuer: ISSUER, authorization_endpoint: `${ISSUER}/authorize-${label}`, token_endpoint: `${ISSUER}/token`, jwks_uri: JWKS_URI });
    }
    if (url === JWKS_URI) return options.jwksFails ? json({ error: 'down' }, 500) : json({ keys: [jwk] });
    return json({}, 404);
  };
  return { fetch, calls, key: privateKey };
}

function logoutToken(key: KeyLike, jti: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: 'alice', jti, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'logout+jwt' })
    .setIssuer(ISSUER)
    .setAudience(CLIENT_ID)
    .setIssuedAt(now)
    .setExpirationTime(now + 120)
    .sign(key);
}

const middlewares: OAuthMiddleware[] = [];
function app(fetch: FetchLike) {
  const mw = oauthMiddleware({ issuer: ISSUER, clientId: CLIENT_ID, clientSecret: 's', redirectUri: 'http://127.0.0.1:3000/callback', backchannelLogout: true, fetch });
  middlewares.push(mw);
  const a = express();
  a.use(session({ secret: 'isolation', resave: false, saveUninitialized: false }));
  a.use(mw);
  return a;
}
afterAll(() => Promise.all(middlewares.map((mw) => mw.close())));

const backchannel = (target: express.Express, token: string) => request(target).post('/backchannel-logout').type('form').send({ logout_token: token });

describe('two middleware instances, same issuer and JWKS URL, different fetch', () => {
  it('should discover through each instance’s own fetch and use its own document', async () => {
    const [a, b] = [await provider('a'), await provider('b')];
    const [appA, appB] = [app(a.fetch), app(b.fetch)];
    expect((await request(appA).get('/login').expect(302)).headers.location).toMatch(/^https:\/\/issuer\.test\/authorize-a\?/);
    expect((await request(appB).get('/login').expect(302)).headers.location).toMatch(/^https:\/\/issuer\.test\/authorize-b\?/);
    await request(appA).get('/login').expect(302);
    expect([a.calls, b.calls]).toEqual([['/.well-known/openid-configuration'], ['/.well-known/openid-configuration']]);
  });

  it('should verify each instance’s tokens against the keys its own fetch served', async () => {
    const [a, b, down] = [await provider('a'), await provider('b'), await provider('c', { jwksFails: true })];
    const [appA, appB, appDown] = [app(a.fetch), app(b.fetch), app(down.fetch)];

    expect((await backchannel(appA, await logoutToken(a.key, 'a-1'))).status).toBe(200);
    // Same JWKS URL, same kid: B verifies with B's key (a shared cache would hand it A's and fail).
    expect((await backchannel(appB, await logoutToken(b.key, 'b-1'))).status).toBe(200);
    // And B refuses a token signed with A's key: B trusts only what B's fetch served.
    expect((await backchannel(appB, await logoutToken(a.key, 'b-2'))).status).toBe(400);
    // An instance whose JWKS fetch fails gets no keys from the others.
    expect((await backchannel(appDown, await logoutToken(a.key, 'c-1'))).status).toBe(400);

    const jwksCalls = (p: Provider) => p.calls.filter((c) => c === '/jwks').length;
    expect([jwksCalls(a), jwksCalls(b), jwksCalls(down)]).toEqual([1, 1, 1]);
  });
});

describe('two backend clients, same API origin, different fetch (DPoP nonces)', () => {
  let tokenServer: http.Server;
  let tokenUrl: string;
  const clients: GrantClient[] = [];
  beforeAll(async () => {
    let n = 0;
    tokenServer = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `at-${++n}`, token_type: 'DPoP', expires_in: 300 })));
    });
    await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', () => resolve()));
    tokenUrl = `http://127.0.0.1:${(tokenServer.address() as { port: number }).port}/token`;
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await new Promise((resolve) => tokenServer.close(resolve));
  });

  /** A resource server seen through one client's `fetch`: it demands its own nonce (RFC 9449 §9). */
  function resourceServer(nonce: string) {
    const seen: Array<string | undefined> = [];
    const fetch: FetchLike = async (_input, init) => {
      const proof = new Headers(init?.headers).get('dpop') as string;
      expect(decodeProtectedHeader(proof).typ).toBe('dpop+jwt');
      const sent = decodeJwt(proof).nonce as string | undefined;
      seen.push(sent);
      if (sent === nonce) return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
      return new Response(null, { status: 401, headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': nonce } });
    };
    return { fetch, seen };
  }

  it('should keep each client’s nonces to itself', async () => {
    const [rsA, rsB] = [resourceServer('nonce-a'), resourceServer('nonce-b')];
    const make = (fetch: FetchLike) => {
      const client = clientCredentials({ clientId: 'svc', clientSecret: 'x', tokenUrl, dpop: true, apiBaseUrl: 'https://api.test', fetch });
      clients.push(client);
      return client;
    };
    const [a, b] = [make(rsA.fetch), make(rsB.fetch)];
    expect((await a.get('/data')).status).toBe(200);
    expect((await b.get('/data')).status).toBe(200);
    expect((await a.get('/data')).status).toBe(200);
    // A learned nonce-a and reuses it; B never saw it: its first proof has no nonce, then its own.
    expect(rsA.seen).toEqual([undefined, 'nonce-a', 'nonce-a']);
    expect(rsB.seen).toEqual([undefined, 'nonce-b']);
  });
});
