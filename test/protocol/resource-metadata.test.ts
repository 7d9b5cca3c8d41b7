import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OutboundTransport } from '../../lib/client/transport';
import { fetchResourceMetadata, RESOURCE_METADATA_TTL_MS, ResourceMetadataCache, resourceMetadataMismatch } from '../../lib/protocol/resource-metadata';

// RFC 9728 documents from a real HTTP server (scripted per path), read through the package's transport.
let server: http.Server;
let base: string;
const docs = new Map<string, { status?: number; body: string; headers?: Record<string, string> }>();
const hits: string[] = [];
const transport = new OutboundTransport(undefined, 2000);

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    const doc = docs.get(req.url ?? '');
    if (!doc) return void res.writeHead(404).end();
    res.writeHead(doc.status ?? 200, { 'content-type': 'application/json', ...doc.headers }).end(doc.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await transport.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  docs.clear();
  hits.length = 0;
});

const url = (path: string) => new URL(`${base}${path}`);
const serve = (path: string, body: unknown, extra: { status?: number; headers?: Record<string, string> } = {}) =>
  docs.set(path, { body: typeof body === 'string' ? body : JSON.stringify(body), ...extra });

describe('fetchResourceMetadata', () => {
  it('should read resource, authorization_servers and scopes_supported', async () => {
    serve('/m', { resource: 'https://api.example/orders', authorization_servers: ['https://as.example'], scopes_supported: ['orders:read'], bearer_methods_supported: ['header'] });
    expect(await fetchResourceMetadata(transport.fetch, url('/m'), 2000)).toEqual({
      resource: 'https://api.example/orders',
      authorizationServers: ['https://as.example'],
      scopesSupported: ['orders:read'],
    });
  });

  it.each([
    ['a 404', undefined, 404, 'OAUTH_RESOURCE_METADATA_ERROR', /could not be read/],
    ['a redirect (never followed)', '{}', 302, 'OAUTH_RESOURCE_METADATA_ERROR', /could not be read/],
    ['not JSON', 'not json', 200, 'OAUTH_RESOURCE_METADATA_ERROR', /could not be read/],
    ['an array', '[]', 200, 'OAUTH_RESOURCE_METADATA_ERROR', /is not a JSON object/],
    ['no resource', '{"authorization_servers":[]}', 200, 'OAUTH_RESOURCE_METADATA_ERROR', /has no `resource`/],
    ['authorization_servers not a list of strings', '{"resource":"https://a","authorization_servers":[1]}', 200, 'OAUTH_RESOURCE_METADATA_ERROR', /malformed `authorization_servers`/],
    [
      'a body over 64 KiB',
      JSON.stringify({ resource: 'https://a', pad: 'x'.repeat(70_000) }),
      200,
      'OAUTH_RESPONSE_TOO_LARGE',
      /^The protected resource metadata response is larger than 64 KiB; it was not read further\.$/,
    ],
  ])('should refuse %s with 502', async (_name, body, status, code, message) => {
    if (body !== undefined) serve('/bad', body, { status, headers: status === 302 ? { location: '/m' } : {} });
    const err = (await fetchResourceMetadata(transport.fetch, url('/bad'), 2000).catch((e: unknown) => e)) as { code: string; status: number; message: string };
    expect([err.code, err.status]).toEqual([code, 502]);
    expect(err.message).toMatch(message);
  });
});

describe('resourceMetadataMismatch (RFC 9728 §3.3, §7.3)', () => {
  const doc = { resource: 'https://api.example/orders', authorizationServers: ['https://as.example'] };
  const requestUrl = new URL('https://api.example/orders/items?x=1');

  it('should accept the configured resource listed with the provider issuer', () => {
    expect(resourceMetadataMismatch(doc, { resource: 'https://api.example/orders', requestUrl, issuer: 'https://as.example' })).toBeUndefined();
  });

  it('should refuse another resource, an unlisted issuer, or an unknown issuer', () => {
    expect(resourceMetadataMismatch(doc, { resource: 'https://api.example/billing', requestUrl, issuer: 'https://as.example' })).toBe(
      'names the resource "https://api.example/orders", not "https://api.example/billing"',
    );
    expect(resourceMetadataMismatch(doc, { resource: 'https://api.example/orders', requestUrl, issuer: 'https://evil.example' })).toBe(
      "does not list the provider's issuer https://evil.example in authorization_servers",
    );
    expect(resourceMetadataMismatch(doc, { resource: 'https://api.example/orders', requestUrl, issuer: undefined })).toBe('cannot be checked: the provider has no known issuer');
  });

  it('should take, without a configured resource, the request origin or a path prefix of the request', () => {
    const check = (resource: string) => resourceMetadataMismatch({ ...doc, resource }, { requestUrl, issuer: 'https://as.example' });
    expect([check('https://api.example'), check('https://api.example/'), check('https://api.example/orders'), check('https://api.example/orders/')]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(check('https://api.example/order')).toBe('names the resource "https://api.example/order", not one of https://api.example');
    expect(check('https://other.example/orders')).toBe('names the resource "https://other.example/orders", not one of https://api.example');
    expect(check('https://api.example/orders?tenant=1')).toBe('names the resource "https://api.example/orders?tenant=1", not one of https://api.example');
  });
});

describe('ResourceMetadataCache', () => {
  it('should fetch once for concurrent and later readers within the TTL, and again after it', async () => {
    serve('/m', { resource: 'https://a', authorization_servers: [] });
    let now = 1_000;
    const cache = new ResourceMetadataCache({ fetch: transport.fetch, timeoutMs: 2000, now: () => now });
    const [a, b] = await Promise.all([cache.get(url('/m')), cache.get(url('/m'))]);
    expect(a).toBe(b);
    now += RESOURCE_METADATA_TTL_MS - 1;
    await cache.get(url('/m'));
    expect(hits).toEqual(['/m']);
    now += 1;
    await cache.get(url('/m'));
    expect(hits).toEqual(['/m', '/m']);
  });

  it('should keep a failure 30 s, then try again', async () => {
    let now = 1_000;
    const cache = new ResourceMetadataCache({ fetch: transport.fetch, timeoutMs: 2000, now: () => now });
    await expect(cache.get(url('/missing'))).rejects.toMatchObject({ code: 'OAUTH_RESOURCE_METADATA_ERROR' });
    now += 29_999;
    await expect(cache.get(url('/missing'))).rejects.toMatchObject({ code: 'OAUTH_RESOURCE_METADATA_ERROR' });
    expect(hits).toEqual(['/missing']);
    serve('/missing', { resource: 'https://a' });
    now += 1;
    await expect(cache.get(url('/missing'))).resolves.toEqual({ resource: 'https://a', authorizationServers: [] });
    expect(hits).toEqual(['/missing', '/missing']);
  });
});
