import { clientCredentials, oauthMiddleware, passwordGrant, providers } from 'express-oauth2-session';

// The backend grant clients validate with oauthMiddleware's helpers: the same bad value gets the
// same message, labelled with the factory that refused it.
const client = { clientId: 'id', clientSecret: 'secret', tokenUrl: 'https://as.example/token' };
const middleware = { ...client, authorizationUrl: 'https://as.example/authorize', redirectUri: 'https://app.example/callback' };
const user = { username: 'ann', password: 'pw' };

function refusal(create: () => unknown): { message: string; code: unknown; path: unknown } | undefined {
  try {
    create();
  } catch (err) {
    const e = err as TypeError & { code?: unknown; path?: unknown };
    return { message: `${e.constructor.name}: ${e.message}`, code: e.code, path: e.path };
  }
  return undefined;
}

describe('backend grant clients and oauthMiddleware', () => {
  it.each([
    [
      'tokenEndpointAuthMethod',
      { tokenEndpointAuthMethod: 'attest_jwt_client_auth' },
      'must be one of client_secret_basic, client_secret_post, none, private_key_jwt, client_secret_jwt, tls_client_auth, self_signed_tls_client_auth',
    ],
    ['httpTimeoutMs', { httpTimeoutMs: Infinity }, 'must be a positive number'],
    ['httpTimeoutMs', { httpTimeoutMs: 0 }, 'must be a positive number'],
    ['clientId', { clientId: '' }, 'must be a non-empty string'],
    ['clientSecret', { clientSecret: undefined, tokenEndpointAuthMethod: 'client_secret_post' }, 'is required with tokenEndpointAuthMethod "client_secret_post"'],
    ['tokenUrl', { tokenUrl: 'http://as.example/token' }, 'must use https (http is allowed only for loopback hosts)'],
    ['scope', { scope: ['read', 'two words'] }, 'must be a space-separated string or an array of scope strings'],
    ['refreshLeewaySeconds', { refreshLeewaySeconds: Number.NaN }, 'must be a number ≥ 0'],
    ['apiBaseUrl', { apiBaseUrl: 'ftp://api.example' }, 'must be an absolute http(s) URL'],
    ['allowedOrigins[0]', { allowedOrigins: ['https://api.example/v1'] }, 'must be an origin (scheme://host[:port]) with no path'],
    ['tokenPlacement', { tokenPlacement: 'cookie' }, 'must be "header" or "query"'],
    ['extraQuery.key', { extraQuery: { key: 1 } }, 'must be a string'],
    ['tokenRequestHeaders', { tokenRequestHeaders: 'accept: json' }, 'must be an object of strings'],
    ['retryOn401', { retryOn401: 'yes' }, 'must be a boolean'],
    ['defaultTokenType', { defaultTokenType: 'mac' }, 'must be "bearer" or absent'],
    ['fetch', { fetch: 'undici' }, 'must be a fetch-compatible function'],
    ['scopes', { scopes: 'read' }, 'is not an option; did you mean `scope`?'],
    ['clientSecert', { clientSecert: 'x' }, 'is not an option; did you mean `clientSecret`?'],
  ])('should refuse `%s` with the same message from each factory (%p)', (path, patch, problem) => {
    const expected = (factory: string) => ({ message: `TypeError: ${factory}: \`${path}\` ${problem}`, code: 'ERR_OAUTH_CONFIG', path });
    expect(refusal(() => oauthMiddleware({ ...middleware, ...patch } as never))).toEqual(expected('oauthMiddleware'));
    expect(refusal(() => clientCredentials({ ...client, ...patch } as never))).toEqual(expected('clientCredentials'));
    expect(refusal(() => passwordGrant({ ...client, ...user, ...patch } as never))).toEqual(expected('passwordGrant'));
  });

  it('should accept a preset spread, ignoring the fields a backend client has no use for', () => {
    const backend = clientCredentials({ ...providers.battlenet({ region: 'eu' }), clientId: 'id', clientSecret: 'secret' });
    const legacy = passwordGrant({ ...providers.google(), clientId: 'id', clientSecret: 'secret', ...user });
    expect([backend.toJSON(), legacy.toJSON()]).toEqual([
      { hasToken: false, expiresAt: undefined },
      { hasToken: false, expiresAt: undefined },
    ]);
  });

  it.each([
    ['clientCredentials', () => clientCredentials({ ...providers.oidc({ issuer: 'https://id.example' }), clientId: 'id', clientSecret: 'secret' })],
    ['passwordGrant', () => passwordGrant({ clientId: 'id', clientSecret: 'secret', ...user })],
  ])('should require tokenUrl in %s (no discovery for backend clients)', (factory, create) => {
    expect(refusal(create)).toEqual({
      message: `TypeError: ${factory}: \`tokenUrl\` is required (a backend client does no discovery): pass it, or spread a preset that has one`,
      code: 'ERR_OAUTH_CONFIG',
      path: 'tokenUrl',
    });
  });

  it.each([
    [{ tlsClientCertificate: { cert: 'c', key: 'k' } }, 'tlsClientCertificate', 'is not supported by backend clients yet'],
    [{ tokenEndpointAuthMethod: 'tls_client_auth', clientSecret: undefined }, 'tokenEndpointAuthMethod', '"tls_client_auth" is not supported by backend clients yet'],
  ])('should refuse mutual TLS in clientCredentials rather than ignore it (%p)', (patch, path, problem) => {
    expect(refusal(() => clientCredentials({ ...client, ...patch } as never))).toEqual({ message: `TypeError: clientCredentials: \`${path}\` ${problem}`, code: 'ERR_OAUTH_CONFIG', path });
  });

  it.each([
    [{ redirectUri: 'https://app.example/callback' }, 'redirectUri', 'is not an option'],
    [{ username: 'ann' }, 'username', 'is not an option'],
  ])('should refuse keys that clientCredentials does not take (%p)', (patch, path, problem) => {
    expect(refusal(() => clientCredentials({ ...client, ...patch } as never))).toEqual({ message: `TypeError: clientCredentials: \`${path}\` ${problem}`, code: 'ERR_OAUTH_CONFIG', path });
  });

  it.each([
    [{ password: '' }, 'password'],
    [{ username: 42 }, 'username'],
  ])('should refuse passwordGrant credentials that are not non-empty strings (%p)', (patch, path) => {
    expect(refusal(() => passwordGrant({ ...client, ...user, ...patch } as never))).toEqual({
      message: `TypeError: passwordGrant: \`${path}\` must be a non-empty string`,
      code: 'ERR_OAUTH_CONFIG',
      path,
    });
  });
});
