import http from 'node:http';
import { inspect } from 'node:util';
import { DpopProofs } from '../../lib/protocol/dpop';
import { parseRetryAfter, parseTokenBody, TokenEndpointClient, type TokenClientConfig } from '../../lib/protocol/token-endpoint';
// One token-endpoint client per call: the grant objects and DPoP state belong to their owner.
const endpoint = (config: TokenClientConfig) => new TokenEndpointClient({ config, proofs: new DpopProofs() });
const exchangeCode = (config: TokenClientConfig, tokenUrl: string, grant: { code: string; redirectUri: string; codeVerifier?: string }) => endpoint(config).exchangeCode(tokenUrl, grant);
const refreshGrant = (config: TokenClientConfig, tokenUrl: string, refreshToken: string) => endpoint(config).refreshGrant(tokenUrl, refreshToken);
const clientCredentialsGrant = (config: TokenClientConfig, tokenUrl: string, extra?: Record<string, string>) => endpoint(config).clientCredentialsGrant(tokenUrl, extra);
const passwordGrantRequest = (config: TokenClientConfig, tokenUrl: string, credentials: { username: string; password: string }, extra?: Record<string, string>) =>
  endpoint(config).passwordGrant(tokenUrl, credentials, extra);

// A local token endpoint answering crafted responses: faults a real AS will not produce on demand.
type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;
let handler: Handler;
let seen: Array<{ authorization?: string; body: string }> = [];
let server: http.Server;
let url: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ authorization: req.headers.authorization, body });
      handler(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/token`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen = [];
});

const SECRET = 'SECRET-canary-7f3a';
const basic: TokenClientConfig = { clientId: 'client-1', clientSecret: SECRET, authMethod: 'client_secret_basic', timeoutMs: 300 };
const reply =
  (status: number, body: string, type = 'application/json'): Handler =>
  (_req, _body, res) => {
    res.writeHead(status, { 'content-type': type }).end(body);
  };

function caught(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: Error & Record<string, unknown>) => err,
  );
}

describe("token endpoint calls (through simple-oauth2's documented API)", () => {
  it('should send client_secret_basic and the grant as a form, and parse JSON', async () => {
    handler = reply(200, JSON.stringify({ access_token: 'at', token_type: 'Bearer' }));
    expect(await exchangeCode(basic, url, { code: 'c1', redirectUri: 'https://app/cb', codeVerifier: 'v1' })).toEqual({ access_token: 'at', token_type: 'Bearer' });
    expect(seen[0]?.authorization).toBe(`Basic ${Buffer.from(`client-1:${SECRET}`).toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(seen[0]?.body))).toEqual({ grant_type: 'authorization_code', code: 'c1', redirect_uri: 'https://app/cb', code_verifier: 'v1' });
  });

  it('should send client_secret_post credentials in the body', async () => {
    handler = reply(200, JSON.stringify({ access_token: 'at', token_type: 'Bearer' }));
    await refreshGrant({ ...basic, authMethod: 'client_secret_post' }, url, 'rt1');
    expect(seen[0]?.authorization).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(seen[0]?.body))).toEqual({ grant_type: 'refresh_token', refresh_token: 'rt1', client_id: 'client-1', client_secret: SECRET });
  });

  it('should send only client_id for a public client', async () => {
    handler = reply(200, JSON.stringify({ access_token: 'at', token_type: 'Bearer' }));
    await refreshGrant({ clientId: 'public-app', clientSecret: undefined, authMethod: 'none', timeoutMs: 300 }, url, 'rt1');
    expect(seen[0]?.authorization).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(seen[0]?.body))).toEqual({ grant_type: 'refresh_token', refresh_token: 'rt1', client_id: 'public-app' });
  });

  it('should parse a form-encoded success body (GitHub without Accept: application/json)', async () => {
    handler = reply(200, 'access_token=gho_x&scope=repo&token_type=bearer', 'application/x-www-form-urlencoded');
    expect(await refreshGrant(basic, url, 'rt')).toEqual({ access_token: 'gho_x', scope: 'repo', token_type: 'bearer', refresh_token: 'rt' });
  });

  it('should keep the refresh token VALUE that was sent when the refresh response has none (simple-oauth2 5.1.0 bug)', async () => {
    handler = reply(200, JSON.stringify({ access_token: 'at2', token_type: 'Bearer', expires_in: 60 }));
    expect(await refreshGrant(basic, url, 'rt-kept-1')).toEqual({ access_token: 'at2', token_type: 'Bearer', expires_in: 60, refresh_token: 'rt-kept-1' });
  });

  it("should adopt a rotated refresh token and return the raw response without simple-oauth2's expires_at", async () => {
    handler = reply(200, JSON.stringify({ access_token: 'at2', token_type: 'Bearer', expires_in: 60, refresh_token: 'rt-new' }));
    const body = await refreshGrant(basic, url, 'rt-old');
    expect(body).toEqual({ access_token: 'at2', token_type: 'Bearer', expires_in: 60, refresh_token: 'rt-new' });
    expect('expires_at' in body).toBe(false);
  });

  it('should send the client credentials grant with extra parameters, never letting them override grant_type', async () => {
    handler = reply(200, JSON.stringify({ access_token: 'cc', token_type: 'Bearer' }));
    expect(await clientCredentialsGrant(basic, url, { scope: 'a b', audience: 'api', grant_type: 'password' })).toEqual({ access_token: 'cc', token_type: 'Bearer' });
    expect(Object.fromEntries(new URLSearchParams(seen[0]?.body))).toEqual({ grant_type: 'client_credentials', scope: 'a b', audience: 'api' });
  });

  it('should send the password grant in the body with client_secret_post', async () => {
    handler = reply(200, JSON.stringify({ access_token: 'pw', token_type: 'Bearer' }));
    await passwordGrantRequest({ ...basic, authMethod: 'client_secret_post' }, url, { username: 'u1', password: 'p w' }, { scope: 's' });
    expect(Object.fromEntries(new URLSearchParams(seen[0]?.body))).toEqual({ grant_type: 'password', scope: 's', username: 'u1', password: 'p w', client_id: 'client-1', client_secret: SECRET });
  });

  it.each([['null'], ['"a string"'], ['42'], ['[]'], ['{}']])('should answer a 200 JSON body %s with a 502', async (raw) => {
    handler = reply(200, raw);
    const err = await caught(exchangeCode(basic, url, { code: 'c', redirectUri: 'https://app/cb' }));
    expect([err.status, err.code, err.message]).toEqual([502, 'OAUTH_INVALID_TOKEN_RESPONSE', 'The token endpoint answered with a body that is neither JSON nor form-encoded.']);
  });

  it.each([
    [
      '400 invalid_grant',
      reply(400, '{"error":"invalid_grant","error_description":"used"}'),
      400,
      'OAUTH_TOKEN_ENDPOINT_ERROR',
      'The token endpoint rejected the request with "invalid_grant" (HTTP 400).',
    ],
    ['401 invalid_client', reply(401, '{"error":"invalid_client"}'), 500, 'OAUTH_TOKEN_ENDPOINT_ERROR', 'The token endpoint rejected the request with "invalid_client" (HTTP 401).'],
    ['200 with error (GitHub)', reply(200, '{"error":"bad_verification_code"}'), 400, 'OAUTH_TOKEN_ENDPOINT_ERROR', 'The token endpoint rejected the request with "bad_verification_code" (HTTP 200).'],
    ['500 html', reply(500, '<html>proxy error</html>', 'text/html'), 502, 'OAUTH_INVALID_TOKEN_RESPONSE', 'The token endpoint answered HTTP 500 without a valid OAuth error body.'],
    ['200 html', reply(200, '<html>login</html>', 'text/html'), 502, 'OAUTH_INVALID_TOKEN_RESPONSE', 'The token endpoint answered with a body that is neither JSON nor form-encoded.'],
    ['200 truncated JSON', reply(200, '{"access_token":'), 502, 'OAUTH_INVALID_TOKEN_RESPONSE', 'The token endpoint answered with a body that is neither JSON nor form-encoded.'],
    [
      '302 redirect',
      (_q: unknown, _b: unknown, res: http.ServerResponse) => void res.writeHead(302, { location: 'https://evil.example/' }).end(),
      502,
      'OAUTH_INVALID_TOKEN_RESPONSE',
      'The token endpoint answered with a body that is neither JSON nor form-encoded.',
    ],
    [
      '2 MiB body',
      (_q: unknown, _b: unknown, res: http.ServerResponse) => {
        const big = JSON.stringify({ access_token: 'x'.repeat(2 * 1024 * 1024) });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(big) }).end(big);
      },
      502,
      'OAUTH_INVALID_TOKEN_RESPONSE',
      'sent an oversized body.',
    ],
    [
      '2 MiB chunked body',
      (_q: unknown, _b: unknown, res: http.ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"access_token":"');
        res.end(`${'x'.repeat(2 * 1024 * 1024)}"}`);
      },
      502,
      'OAUTH_NETWORK_ERROR',
      'failed or its answer broke off',
    ],
    ['timeout', () => undefined, 504, 'OAUTH_TIMEOUT', 'did not answer in time'],
    ['socket reset', (req: http.IncomingMessage) => req.socket.destroy(), 502, 'OAUTH_NETWORK_ERROR', 'failed or its answer broke off'],
  ])('should map %s to %i', async (_name, h, status, code, message) => {
    handler = h as Handler;
    const err = await caught(refreshGrant(basic, url, 'RT-canary-1'));
    expect(err.status).toBe(status);
    expect(err.code).toBe(code);
    expect(err.message).toContain(message.replace('http://127.0.0.1', ''));
    for (const text of [err.message, JSON.stringify(err), inspect(err, { depth: 8, showHidden: true })]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(Buffer.from(`client-1:${SECRET}`).toString('base64'));
      expect(text).not.toContain('RT-canary-1');
    }
  });

  it('should refuse a connection to a closed port as a NetworkError', async () => {
    const err = await caught(refreshGrant(basic, 'http://127.0.0.1:1/token', 'rt'));
    expect([err.status, err.code]).toEqual([502, 'OAUTH_NETWORK_ERROR']);
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['2', 2000],
    ['600', 60_000],
    ['0', undefined],
    ['soon', undefined],
    [undefined, undefined],
    [new Date(1_000_000 + 5000).toUTCString(), 5000],
  ])('should read %j as %j ms', (value, expected) => {
    expect(parseRetryAfter(value, 1_000_000)).toBe(expected);
  });
});

describe('parseTokenBody', () => {
  it.each([
    ['{"a":1}', { a: 1 }],
    ['a=1&b=two%20words', { a: '1', b: 'two words' }],
    ['null', undefined],
    ['[]', undefined],
    ['"x"', undefined],
    ['<html>', undefined],
    ['', undefined],
  ])('should parse %j', (raw, expected) => {
    expect(parseTokenBody(Buffer.from(raw))).toEqual(expected);
  });
});
