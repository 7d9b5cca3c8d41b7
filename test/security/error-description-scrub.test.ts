import http from 'node:http';
import { inspect } from 'node:util';
import { containsSecret, safeErrorDescription, safeErrorUri } from '../../lib/protocol/token-endpoint-errors';
import { DpopProofs } from '../../lib/protocol/dpop';
import { TokenEndpointClient, type TokenClientConfig } from '../../lib/protocol/token-endpoint';
// One token-endpoint client per call: the grant objects and DPoP state belong to their owner.
const endpoint = (config: TokenClientConfig) => new TokenEndpointClient({ config, proofs: new DpopProofs() });
const exchangeCode = (config: TokenClientConfig, tokenUrl: string, grant: { code: string; redirectUri: string; codeVerifier?: string }) => endpoint(config).exchangeCode(tokenUrl, grant);
const refreshGrant = (config: TokenClientConfig, tokenUrl: string, refreshToken: string) => endpoint(config).refreshGrant(tokenUrl, refreshToken);
const clientCredentialsGrant = (config: TokenClientConfig, tokenUrl: string, extra?: Record<string, string>) => endpoint(config).clientCredentialsGrant(tokenUrl, extra);

// Issue 13 #7: an AS (or a proxy in front of it) that echoes the request into error_description or
// error_uri must not make us keep a token or secret. A real AS does not do this on demand, so a
// local endpoint answers crafted error bodies.
let reply: { status: number; body: unknown } = { status: 400, body: {} };
let server: http.Server;
let url: string;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/token`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const SECRET = 'client-secret-canary-0123456789';
const CODE = 'code-canary-abcdefghijklmnop';
const VERIFIER = 'verifier-canary-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const REFRESH = 'refresh-canary-zyxwvutsrqponmlkjihgfedcba';
const config: TokenClientConfig = { clientId: 'client-1', clientSecret: SECRET, authMethod: 'client_secret_post', timeoutMs: 2000 };

async function failure(call: () => Promise<unknown>) {
  const err = (await call().then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  )) as { status: number; error?: string; errorDescription?: string; errorUri?: string; message: string };
  for (const text of [err.message, JSON.stringify(err), inspect(err, { depth: 8, showHidden: true })]) {
    for (const secret of [SECRET, CODE, VERIFIER, REFRESH]) expect(text).not.toContain(secret);
  }
  return { status: err.status, error: err.error, errorDescription: err.errorDescription, errorUri: err.errorUri };
}

describe('error_description and error_uri scrubbing at the translation point', () => {
  it.each([
    ['the refresh token sent', `refresh token ${REFRESH} was revoked`],
    ['12 characters of the refresh token', `token ending in ${REFRESH.slice(-12)} is unknown`],
    ['the client secret', `bad secret "${SECRET}"`],
  ])('should drop a refresh error_description echoing %s', async (_name, description) => {
    reply = { status: 400, body: { error: 'invalid_grant', error_description: description, error_uri: 'https://as.example/help' } };
    expect(await failure(() => refreshGrant(config, url, REFRESH))).toEqual({
      status: 400,
      error: 'invalid_grant',
      errorDescription: undefined,
      errorUri: 'https://as.example/help',
    });
  });

  it.each([
    ['the code', `code ${CODE} already used`],
    ['the PKCE verifier', `verifier ${VERIFIER} does not match`],
  ])('should drop a code-exchange error_description echoing %s', async (_name, description) => {
    reply = { status: 400, body: { error: 'invalid_grant', error_description: description } };
    expect(await failure(() => exchangeCode(config, url, { code: CODE, redirectUri: 'https://app/cb', codeVerifier: VERIFIER }))).toEqual({
      status: 400,
      error: 'invalid_grant',
      errorDescription: undefined,
      errorUri: undefined,
    });
  });

  it('should drop an error_uri carrying the client secret', async () => {
    reply = { status: 401, body: { error: 'invalid_client', error_description: 'bad client', error_uri: `https://as.example/help?secret=${SECRET}` } };
    expect(await failure(() => clientCredentialsGrant(config, url))).toEqual({ status: 500, error: 'invalid_client', errorDescription: 'bad client', errorUri: undefined });
  });

  it('should not trust an error code that is the secret itself', async () => {
    reply = { status: 400, body: { error: REFRESH.slice(0, 40) } };
    expect(await failure(() => refreshGrant(config, url, REFRESH))).toEqual({ status: 502, error: undefined, errorDescription: undefined, errorUri: undefined });
  });

  it('should replace non-printable characters and cut the description at 300 characters', async () => {
    reply = { status: 400, body: { error: 'invalid_request', error_description: `line1\r\nSet-Cookie: x\u0000"é\\${'d'.repeat(400)}` } };
    const { errorDescription } = await failure(() => refreshGrant(config, url, REFRESH));
    expect(errorDescription).toBe(`line1??Set-Cookie: x????${'d'.repeat(276)}`);
    expect(errorDescription).toHaveLength(300);
  });
});

describe('the scrubbing helpers', () => {
  it.each([
    ['a whole secret', 'abc SECRET-1234 def', true],
    ['12 characters of a long secret', 'xx 0123456789ab yy', true],
    ['11 characters of a long secret', 'xx 0123456789a yy', false],
    ['nothing of it', 'invalid grant', false],
  ])('containsSecret should find %s', (_name, text, found) => {
    expect(containsSecret(text, ['SECRET-1234', '0123456789abcdefghij', undefined, ''])).toBe(found);
  });

  it.each([
    ['javascript:alert(1)', undefined],
    ['https://as.example/e?x=1', 'https://as.example/e?x=1'],
    ['https://as.example/a b', undefined],
    [`https://as.example/${'a'.repeat(600)}`, undefined],
    [42, undefined],
  ])('safeErrorUri(%j) should be %j', (value, expected) => {
    expect(safeErrorUri(value, [])).toBe(expected);
  });

  it.each([[''], [7], [null]])('safeErrorDescription(%j) should be undefined', (value) => {
    expect(safeErrorDescription(value, [])).toBeUndefined();
  });
});
