import http from 'node:http';
import { revokeToken, type RevocationClient } from '../../lib/protocol/revocation';

// RFC 7009 revocation through the one outbound transport (any fetch-compatible function).
let server: http.Server;
let url: string;
let answer: { status: number; body: string } = { status: 200, body: '' };
const seen: Array<{ body: string; authorization: string | undefined; contentType: string | undefined }> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ body, authorization: req.headers.authorization, contentType: req.headers['content-type'] });
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/revoke`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen.length = 0;
  answer = { status: 200, body: '' };
});

const basic: RevocationClient = { clientId: 'client 1', clientSecret: 's3cr:t', authMethod: 'client_secret_basic' };
const send = (client: RevocationClient, token = 'rt-revoke-me', hint: 'refresh_token' | 'access_token' = 'refresh_token') =>
  revokeToken({ fetch: (input, init) => fetch(input, init), url, client, timeoutMs: 2000 }, token, hint);

describe('revokeToken', () => {
  it('should post token and token_type_hint with form-urlencoded Basic credentials, and accept a non-JSON 200', async () => {
    answer = { status: 200, body: 'OK' };
    await expect(send(basic)).resolves.toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(seen[0]!.body))).toEqual({ token: 'rt-revoke-me', token_type_hint: 'refresh_token' });
    expect(seen[0]!.authorization).toBe(`Basic ${Buffer.from('client+1:s3cr%3At').toString('base64')}`);
    expect(seen[0]!.contentType).toBe('application/x-www-form-urlencoded;charset=UTF-8');
  });

  it('should put the credentials in the body with client_secret_post, and only client_id for a public client', async () => {
    await send({ ...basic, authMethod: 'client_secret_post' }, 'at-1', 'access_token');
    await send({ clientId: 'public', clientSecret: undefined, authMethod: 'none' }, 'at-2', 'access_token');
    expect(seen.map((s) => [Object.fromEntries(new URLSearchParams(s.body)), s.authorization])).toEqual([
      [{ token: 'at-1', token_type_hint: 'access_token', client_id: 'client 1', client_secret: 's3cr:t' }, undefined],
      [{ token: 'at-2', token_type_hint: 'access_token', client_id: 'public' }, undefined],
    ]);
  });

  it('should turn an error answer into a 502 TokenEndpointError that quotes neither token nor body', async () => {
    answer = { status: 400, body: '{"error":"unsupported_token_type","error_description":"rt-revoke-me"}' };
    const err = (await send(basic).catch((e: unknown) => e)) as { name: string; status: number; message: string };
    expect([err.name, err.status, err.message]).toEqual(['TokenEndpointError', 502, 'The revocation endpoint answered HTTP 400.']);
  });

  it('should send through the given fetch function (the `fetch` option)', async () => {
    const calls: string[] = [];
    await revokeToken(
      { fetch: async (input, init) => (calls.push(`${init?.method} ${String(input)}`), new Response(null, { status: 200 })), url, client: basic, timeoutMs: 1000 },
      't',
      'access_token',
    );
    expect(calls).toEqual([`POST ${url}`]);
    expect(seen).toEqual([]);
  });
});
