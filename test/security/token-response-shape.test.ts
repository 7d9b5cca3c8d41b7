import request from 'supertest';
import { fromTokenResponse, MAX_TOKEN_LENGTH } from '../../lib/protocol/token-set';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { authorize, pathOf } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Issue 13 #5: what a token must look like before it is stored and sent in an Authorization header.
const NOW = 1_700_000_000_000;
const NOT_PRINTABLE = 'The token endpoint returned an access_token that is not 1 to 16384 printable ASCII characters.';
const BAD_REFRESH = 'The token endpoint returned a refresh_token that is not 1 to 16384 printable ASCII characters.';
const BAD_ID_TOKEN = 'The token endpoint returned a id_token that is not 1 to 16384 printable ASCII characters.';
const NOT_BEARER = 'The token endpoint returned a token_type other than Bearer.';

function thrown(run: () => unknown): { name: string; message: string; status: number; code: string } {
  try {
    run();
  } catch (err) {
    const e = err as { name: string; message: string; status: number; code: string };
    return { name: e.name, message: e.message, status: e.status, code: e.code };
  }
  throw new Error('expected a throw');
}

describe('access and refresh token shape (RFC 6749 VSCHAR, 16 KiB)', () => {
  it.each([
    ['CR LF', 'at-canary\r\nSet-Cookie: x=1'],
    ['NUL', 'at-canary\u0000'],
    ['DEL', 'at-canary\u007f'],
    ['TAB', 'at-canary\t'],
    ['non-ASCII', 'at-canary-é'],
    ['16 KiB + 1', `at-canary${'x'.repeat(MAX_TOKEN_LENGTH - 8)}`],
  ])('should reject an access_token with %s as a 502 that does not quote it', (_name, token) => {
    const err = thrown(() => fromTokenResponse({ access_token: token, token_type: 'Bearer' }, NOW));
    expect(err).toEqual({ name: 'TokenEndpointError', message: NOT_PRINTABLE, status: 502, code: 'OAUTH_INVALID_TOKEN_RESPONSE' });
  });

  it('should accept exactly 16 KiB and the space character (both are VSCHAR-legal)', () => {
    const token = `a b${'x'.repeat(MAX_TOKEN_LENGTH - 3)}`;
    expect(fromTokenResponse({ access_token: token, token_type: 'Bearer' }, NOW).accessToken).toBe(token);
  });

  it.each([
    ['LF', 'rt\nx', BAD_REFRESH],
    ['a number', 12345, BAD_REFRESH],
    ['an object', { value: 'rt' }, BAD_REFRESH],
    ['16 KiB + 1', 'r'.repeat(MAX_TOKEN_LENGTH + 1), BAD_REFRESH],
  ])('should reject a refresh_token that is %s', (_name, refresh, message) => {
    const err = thrown(() => fromTokenResponse({ access_token: 'at', token_type: 'Bearer', refresh_token: refresh }, NOW));
    expect([err.message, err.status]).toEqual([message, 502]);
  });

  it('should reject an id_token with a line break', () => {
    const err = thrown(() => fromTokenResponse({ access_token: 'at', token_type: 'Bearer', id_token: 'a.b.c\r\n' }, NOW));
    expect([err.message, err.status]).toEqual([BAD_ID_TOKEN, 502]);
  });

  it.each([[null], ['']])('should treat refresh_token %j as absent and keep the previous one', (refresh) => {
    const previous = { accessToken: 'at0', tokenType: 'bearer', refreshToken: 'rt-previous' };
    expect(fromTokenResponse({ access_token: 'at', token_type: 'Bearer', refresh_token: refresh }, NOW, previous).refreshToken).toBe('rt-previous');
  });
});

describe('token_type and expires_in', () => {
  it.each([['Bearer'], ['bearer'], ['BEARER'], ['bEaReR']])('should accept token_type %s as bearer', (tokenType) => {
    expect(fromTokenResponse({ access_token: 'at', token_type: tokenType }, NOW).tokenType).toBe('bearer');
  });

  it.each([['DPoP'], ['mac'], ['Bearer '], [1], [true]])('should reject token_type %j', (tokenType) => {
    expect(thrown(() => fromTokenResponse({ access_token: 'at', token_type: tokenType }, NOW)).message).toBe(NOT_BEARER);
  });

  it.each([['soon'], ['60s'], ['1e3'], [true], [{ seconds: 60 }], [Number.NaN]])('should reject a non-numeric expires_in %j', (expiresIn) => {
    const err = thrown(() => fromTokenResponse({ access_token: 'at', token_type: 'bearer', expires_in: expiresIn }, NOW));
    expect([err.message, err.status]).toEqual(['The token endpoint returned a non-numeric expires_in.', 502]);
  });
});

describe('token shape at the callback, against the real authorization server', () => {
  let as: TestAuthorizationServer;
  beforeAll(async () => {
    as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI] });
  });
  afterAll(() => as.stop());

  it('should answer 502, stay logged out and never echo a header-injecting access_token', async () => {
    const { app } = createTestApp({ oauth: providerOptions(as) });
    const agent = request.agent(app);
    const { callbackUrl } = await authorize(agent);
    await as.failNext({ path: '/token', status: 200, body: { access_token: 'AT-canary\r\nX-Injected: 1', token_type: 'Bearer', expires_in: 60 } });
    const res = await agent.get(pathOf(callbackUrl)).set('Accept', 'application/json');
    expect([res.status, res.body.code, res.headers['x-injected']]).toEqual([502, 'OAUTH_INVALID_TOKEN_RESPONSE', undefined]);
    expect(res.text).not.toContain('AT-canary');
    expect((await agent.get('/session')).body.authenticated).toBe(false);
  });
});
