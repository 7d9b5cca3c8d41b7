import zlib from 'node:zlib';
import { decodeJwt } from 'jose';
import { clientCredentials } from 'express-oauth2-session';
import { OutboundTransport } from '../../lib/client/transport';
import type { ResolvedProvider } from '../../lib/config/resolved';
import { readBoundedBytes } from '../../lib/protocol/bounded-body';
import { ProviderMetadata } from '../../lib/protocol/discovery';
import { DpopProofs, generateDpopKey } from '../../lib/protocol/dpop';
import { RemoteKeySets } from '../../lib/protocol/jwks';
import { pushAuthorizationRequest } from '../../lib/protocol/par';
import { revokeToken } from '../../lib/protocol/revocation';
import { readUserInfoResponse } from '../../lib/protocol/userinfo';
import { flooding, startHostileEndpoint } from '../support/hostile-endpoint';

// Hostile providers and APIs (issue 22 items 5 and 6): bodies far over their cap, endpoints over
// plain http in discovery, a body that never arrives, compressed answers, outsized DPoP nonces.
// Every body the package reads goes through one bounded reader that stops at the cap.

const MiB = 1024 * 1024;
const FLOOD = 48 * MiB;
/** Socket buffers on loopback hold a few MiB; reading to the end would take all 48. */
const STOPPED_EARLY = 16 * MiB;

const gzipJson = (value: unknown) => zlib.gzipSync(JSON.stringify(value));

let hostile: Awaited<ReturnType<typeof startHostileEndpoint>>;
const bomb = zlib.gzipSync(Buffer.alloc(32 * MiB, ' '));
beforeAll(async () => {
  hostile = await startHostileEndpoint({
    '/flood': flooding(FLOOD),
    '/flood-201': flooding(FLOOD, { status: 201 }),
    '/bomb': (_req, res) => void res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': bomb.length }).end(bomb),
    '/token': (_req, res) => {
      const body = JSON.stringify({ access_token: 'a'.repeat(2 * MiB), token_type: 'Bearer', expires_in: 60 });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    },
    '/lying-length': (_req, res) => {
      // Declares 100 bytes, sends 10, then nothing: a buffered read would wait for the other 90.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 100 });
      res.write('{"partial"');
    },
    '/gzip': (_req, res) => void res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipJson({ coding: 'gzip' })),
    '/br': (_req, res) => void res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'br' }).end(zlib.brotliCompressSync(JSON.stringify({ coding: 'br' }))),
    '/deflate': (_req, res) => void res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'deflate' }).end(zlib.deflateSync(JSON.stringify({ coding: 'deflate' }))),
    '/deflate-raw': (_req, res) => void res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'deflate' }).end(zlib.deflateRawSync(JSON.stringify({ coding: 'raw' }))),
    '/gzip-large': (_req, res) => {
      const items = Array.from({ length: 40_000 }, (_, i) => ({ i, name: `item-${i}` }));
      const body = gzipJson({ items });
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length }).end(body);
    },
    '/metadata-http-jwks': (_req, res) => {
      const doc = {
        issuer: hostile.url('/metadata-http-jwks'),
        authorization_endpoint: 'https://as.example/authorize',
        token_endpoint: 'https://as.example/token',
        jwks_uri: 'http://as.example/jwks',
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
    },
    '/metadata-loopback/.well-known/openid-configuration': (_req, res) => {
      const issuer = hostile.url('/metadata-loopback');
      const doc = { issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`, userinfo_endpoint: 'http://localhost:1/userinfo' };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
    },
  });
});
const transports: OutboundTransport[] = [];
afterAll(() => Promise.all([hostile.close(), ...transports.map((t) => t.close())]));

const transport = (deadlineMs = 500) => {
  const made = new OutboundTransport(undefined, deadlineMs);
  transports.push(made);
  return made;
};
const client = { clientId: 'rp', clientSecret: 'rp-secret', authMethod: 'client_secret_basic' as const };
const provider = (issuer: string) => ({ name: 'default', issuer, pkce: true, pushedAuthorizationRequests: false, foreignIssuers: [] }) as unknown as ResolvedProvider;

describe('one bounded reader for every body the package reads', () => {
  it('should stop reading a 48 MiB UserInfo answer at its 64 KiB cap (502), cancelling the rest', async () => {
    const err = await readUserInfoResponse(await transport().fetch(hostile.url('/flood')), undefined).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OAUTH_USERINFO_ERROR', status: 502, message: 'The UserInfo response is larger than 64 KiB; it was not read further.' });
    expect(hostile.last('/flood')).toMatchObject({ finished: false });
    expect(hostile.last('/flood')!.sent).toBeLessThan(STOPPED_EARLY);
  });

  it('should stop reading a PAR answer at 16 KiB (502), cancelling the rest', async () => {
    const target = { url: hostile.url('/flood-201'), client, fetch: transport().fetch, timeoutMs: 5000 };
    const err = await pushAuthorizationRequest(target, new URLSearchParams({ response_type: 'code' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OAUTH_INVALID_TOKEN_RESPONSE', status: 502 });
    expect(hostile.last('/flood-201')).toMatchObject({ finished: false });
    expect(hostile.last('/flood-201')!.sent).toBeLessThan(STOPPED_EARLY);
  });

  it('should read at most 16 KiB of a revocation answer (any 2xx is success) and cancel the rest', async () => {
    await expect(revokeToken({ fetch: transport().fetch, url: hostile.url('/flood'), client, timeoutMs: 5000 }, 'at-1', 'access_token')).resolves.toBeUndefined();
    expect(hostile.last('/flood')).toMatchObject({ finished: false });
    expect(hostile.last('/flood')!.sent).toBeLessThan(STOPPED_EARLY);
  });

  it('should stop reading a JWKS answer at 256 KiB (502) and cancel the rest', async () => {
    const keys = new RemoteKeySets({ fetch: transport().fetch, timeoutMs: 5000 });
    const err = await Promise.resolve()
      .then(() => keys.keysOf(hostile.url('/flood'))({ alg: 'RS256' }, { payload: '', signature: '' } as never))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'OAUTH_ID_TOKEN_INVALID',
      status: 502,
      cause: { code: 'OAUTH_RESPONSE_TOO_LARGE', message: 'The JWKS response is larger than 256 KiB; it was not read further.' },
    });
    expect(hostile.last('/flood')).toMatchObject({ finished: false });
  });

  it('should stop reading a discovery document at 256 KiB (503, retried later) and cancel the rest', async () => {
    const issuer = hostile.url('/flood').replace(/\/flood$/, '');
    const metadata = new ProviderMetadata({
      provider: provider(issuer),
      fetch: (url, init) => transport().fetch(String(url).replace('/.well-known/openid-configuration', '/flood'), init),
      timeoutMs: 5000,
    });
    const err = await metadata.endpoints().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OAUTH_DISCOVERY_ERROR', status: 503, cause: { code: 'OAUTH_RESPONSE_TOO_LARGE' } });
    expect(hostile.last('/flood')).toMatchObject({ finished: false });
  });

  it('should cap the decoded size: a 32 KiB gzip that inflates to 32 MiB is refused at 64 KiB', async () => {
    const err = await readUserInfoResponse(await transport().fetch(hostile.url('/bomb')), undefined).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OAUTH_USERINFO_ERROR', status: 502, message: 'The UserInfo response is larger than 64 KiB; it was not read further.' });
  });

  it('should refuse a declared Content-Length over the cap without reading a byte', async () => {
    let pulls = 0;
    const body = new ReadableStream({ pull: (c) => void ((pulls += 1), c.enqueue(new Uint8Array(10))) }, { highWaterMark: 0 });
    const res = new Response(body, { headers: { 'content-length': String(100 * MiB) } });
    await expect(readBoundedBytes(res, 1024, 'test')).rejects.toMatchObject({
      code: 'OAUTH_RESPONSE_TOO_LARGE',
      status: 502,
      message: 'The test response is larger than 1 KiB; it was not read further.',
    });
    expect(pulls).toBe(0);
  });

  it('should refuse a token response over 1 MiB (Wreck maxBytes, before it is parsed)', async () => {
    const backend = clientCredentials({ clientId: 'rp', clientSecret: 'rp-secret', tokenUrl: hostile.url('/token') });
    await expect(backend.getToken()).rejects.toMatchObject({ status: 502 });
  });
});

describe('discovered endpoints obey the rules of configured ones', () => {
  it('should refuse a discovery document whose jwks_uri is plain http on a network host, naming the endpoint and issuer', async () => {
    const issuer = hostile.url('/metadata-http-jwks');
    const metadata = new ProviderMetadata({ provider: provider(issuer), fetch: (_url, init) => transport().fetch(issuer, init), timeoutMs: 5000 });
    const err = await metadata.endpoints().catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'OAUTH_DISCOVERY_ERROR',
      status: 502,
      message: `Discovery document of ${issuer}: jwks_uri (http://as.example) must use https; http is allowed only for loopback hosts.`,
    });
  });

  it('should accept http endpoints on loopback hosts, as configuration does', async () => {
    const issuer = hostile.url('/metadata-loopback');
    const metadata = new ProviderMetadata({ provider: provider(issuer), fetch: transport().fetch, timeoutMs: 5000 });
    const endpoints = await metadata.endpoints();
    expect([endpoints.jwksUri, endpoints.userinfoUrl]).toEqual([`${issuer}/jwks`, 'http://localhost:1/userinfo']);
  });
});

describe('req.oauth transport: answers at the headers, bounded body, decoded like fetch', () => {
  it('should answer at the headers when a server lies about Content-Length, and fail the body read at httpTimeoutMs', async () => {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise((resolve) => (timer = setTimeout(() => resolve('stalled'), 3000)));
    const outcome = await Promise.race([transport().send(new URL(hostile.url('/lying-length')), 'GET', {}, undefined, {}), stalled]).finally(() => clearTimeout(timer));
    expect(outcome).toBeInstanceOf(Response);
    const res = outcome as Response;
    // Answered at the headers (the race against the 3 s marker), and the body read ended by the
    // 500 ms deadline (its message), not by the server: no tighter timing bound on a loaded machine.
    expect(res.status).toBe(200);
    const err = await res.json().catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'TimeoutError', code: 'OAUTH_TIMEOUT', message: 'The response body did not arrive within 500 ms.' });
  });

  it("should end the body read at the caller's signal too", async () => {
    // The transport's own deadline is 60 s: a rejection within the test's timeout is the signal's.
    const res = await transport(60_000).send(new URL(hostile.url('/lying-length')), 'GET', {}, undefined, { signal: AbortSignal.timeout(200) });
    await expect(res.text()).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it.each([
    ['/gzip', { coding: 'gzip' }],
    ['/br', { coding: 'br' }],
    ['/deflate', { coding: 'deflate' }],
    ['/deflate-raw', { coding: 'raw' }],
  ])('should decode %s like fetch, without the encoding headers, having sent accept-encoding', async (path, expected) => {
    const res = await transport().send(new URL(hostile.url(path)), 'GET', {}, undefined, {});
    expect([await res.json(), res.headers.get('content-encoding'), res.headers.get('content-length')]).toEqual([expected, null, null]);
    expect(hostile.last(path)!.headers['accept-encoding']).toBe('gzip, deflate');
    const viaFetch = await globalThis.fetch(hostile.url(path));
    expect(await viaFetch.json()).toEqual(expected);
  });

  it('should decode a large gzip answer through the stream, and keep an accept-encoding the caller set', async () => {
    const res = await transport().send(new URL(hostile.url('/gzip-large')), 'GET', { 'accept-encoding': 'gzip' }, undefined, {});
    const body = (await res.json()) as { items: unknown[] };
    expect(body.items).toHaveLength(40_000);
    expect(hostile.last('/gzip-large')!.headers['accept-encoding']).toBe('gzip');
  });
});

describe('DPoP-Nonce bounds (RFC 9449 §8.1: 1*NQCHAR)', () => {
  it('should neither keep nor echo a nonce over 512 characters or outside NQCHAR, keeping the last good one', async () => {
    const proofs = new DpopProofs();
    const url = 'https://rs.example/api';
    expect(proofs.rememberNonce(url, 'good-nonce_1')).toBe('good-nonce_1');
    expect(proofs.rememberNonce(url, 'n'.repeat(8002))).toBeUndefined();
    expect(proofs.rememberNonce(url, 'has"quote')).toBeUndefined();
    expect(proofs.rememberNonce(url, 'back\\slash')).toBeUndefined();
    expect(proofs.rememberNonce(url, 'has space')).toBeUndefined();
    expect(proofs.nonceFor(url)).toBe('good-nonce_1');
    const proof = await proofs.create(await generateDpopKey(), { method: 'GET', url });
    expect(decodeJwt(proof).nonce).toBe('good-nonce_1');
    expect(proofs.rememberNonce(url, 'n'.repeat(512))).toBe('n'.repeat(512));
  });
});
