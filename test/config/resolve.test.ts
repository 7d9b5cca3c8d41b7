import { oauthMiddleware } from 'express-oauth2-session';
import { resolveConfig } from '../../lib/config/resolve';
import { closestKey, editDistance } from '../../lib/config/option-keys';

const valid = {
  clientId: 'id',
  clientSecret: 'secret',
  authorizationUrl: 'https://as.example/authorize',
  tokenUrl: 'https://as.example/token',
  redirectUri: 'https://app.example/auth/callback',
};

describe('resolveConfig', () => {
  it.each([
    ['clientId', { clientId: '' }, '`clientId` must be a non-empty string'],
    ['clientId type', { clientId: 42 }, '`clientId` must be a non-empty string'],
    ['tokenUrl', { tokenUrl: undefined }, '`tokenUrl` is required unless `issuer` is set (discovery)'],
    ['authorizationUrl', { authorizationUrl: 'not a url' }, '`authorizationUrl` must be an absolute http(s) URL'],
    ['plain-http tokenUrl', { tokenUrl: 'http://as.example/token' }, '`tokenUrl` must use https (http is allowed only for loopback hosts)'],
    ['redirectUri', { redirectUri: '/callback' }, '`redirectUri` must be an absolute http(s) URL'],
    ['scope', { scope: ['ok', 'has space'] }, '`scope` must be a space-separated string or an array of scope strings'],
    [
      'tokenEndpointAuthMethod',
      { tokenEndpointAuthMethod: 'attest_jwt_client_auth' },
      '`tokenEndpointAuthMethod` must be one of client_secret_basic, client_secret_post, none, private_key_jwt, client_secret_jwt, tls_client_auth, self_signed_tls_client_auth',
    ],
    ['secret for basic', { clientSecret: undefined, tokenEndpointAuthMethod: 'client_secret_basic' }, '`clientSecret` is required with tokenEndpointAuthMethod "client_secret_basic"'],
    ['allowedOrigins', { allowedOrigins: ['https://api.example/v1'] }, '`allowedOrigins[0]` must be an origin (scheme://host[:port]) with no path'],
    ['tokenPlacement', { tokenPlacement: 'cookie' }, '`tokenPlacement` must be "header" or "query"'],
    ['refreshLeewaySeconds', { refreshLeewaySeconds: -1 }, '`refreshLeewaySeconds` must be a number ≥ 0'],
    ['authorizationParams', { authorizationParams: { prompt: 1 } }, '`authorizationParams.prompt` must be a string'],
    ['routes.login', { routes: { login: 'login' } }, '`routes.login` must be a path starting with "/" or false'],
    ['postLoginRedirect', { postLoginRedirect: '//evil.example' }, '`postLoginRedirect` must be a same-origin path starting with "/"'],
    ['onRefreshFailure', { onRefreshFailure: 'ignore' }, '`onRefreshFailure` must be "relogin" or "error"'],
    ['lock', { lock: {} }, '`lock` must be a RefreshLock such as redisLock(client)'],
    ['httpTimeoutMs', { httpTimeoutMs: 0 }, '`httpTimeoutMs` must be a positive number'],
    ['fetch', { fetch: 'yes' }, '`fetch` must be a fetch-compatible function'],
    ['idpLogout', { idpLogout: 'yes' }, '`idpLogout` must be a boolean'],
    ['telemetry', { telemetry: 'on' }, '`telemetry` must be a boolean'],
    ['telemetry (misspelt)', { telemtry: true }, '`telemtry` is not an option; did you mean `telemetry`?'],
    ['postLogoutRedirectUri', { postLogoutRedirectUri: '/bye' }, '`postLogoutRedirectUri` must be an absolute http(s) URL'],
  ])('should throw a TypeError naming %s', (_name, patch, message) => {
    let error: unknown;
    try {
      oauthMiddleware({ ...valid, ...patch } as never);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe(`oauthMiddleware: ${message}`);
    expect((error as { code: string }).code).toBe('ERR_OAUTH_CONFIG');
  });

  const FAQ =
    'implicit and hybrid flows are not supported (OAuth 2.1 removes the implicit grant: tokens in the browser URL leak and cannot be kept server-side); see "Why no implicit flow?" in docs/faq.md';
  const github = { ...valid, redirectUri: 'https://app.example/cb/github' };
  it.each([
    ['a misspelt key', { ...valid, scopes: 'openid' }, 'scopes', 'is not an option; did you mean `scope`?'],
    ['a snake_case key', { ...valid, client_id: 'id' }, 'client_id', 'is not an option; did you mean `clientId`?'],
    ['a near-miss URL key', { ...valid, redirectUrl: 'https://app.example/cb' }, 'redirectUrl', 'is not an option; did you mean `redirectUri`?'],
    ['a key contained in a valid one', { ...valid, timeout: 5000 }, 'timeout', 'is not an option; did you mean `httpTimeoutMs`?'],
    ['a key like no other', { ...valid, flavour: 'vanilla' }, 'flavour', 'is not an option'],
    ['a misspelt route', { ...valid, routes: { logn: '/signin' } }, 'routes.logn', 'is not an option; did you mean `login`?'],
    ['a misspelt provider key', { providers: { github: { ...github, scop: 'repo' } } }, 'providers.github.scop', 'is not an option; did you mean `scope`?'],
    ['a provider key beside providers', { providers: { github }, clientId: 'id' }, 'clientId', 'belongs inside each `providers.<name>` entry when `providers` is given'],
    [
      'a top-level key inside a provider',
      { providers: { github: { ...github, httpTimeoutMs: 5 } } },
      'providers.github.httpTimeoutMs',
      'is not a per-provider option: set it at the top level, beside `providers`',
    ],
    ['responseType token', { ...valid, responseType: 'token' }, 'responseType', `must be "code": ${FAQ}`],
    ['response_type code id_token', { ...valid, response_type: 'code id_token' }, 'response_type', `must be "code": ${FAQ}`],
    ['responseType code', { ...valid, responseType: 'code' }, 'responseType', 'is not an option: the authorization code flow (response_type=code) is always used; remove it'],
    ['authorizationParams.response_type token', { ...valid, authorizationParams: { response_type: 'token' } }, 'authorizationParams.response_type', `must be "code": ${FAQ}`],
    ['a hybrid response_type', { ...valid, authorizationParams: { response_type: 'code id_token' } }, 'authorizationParams.response_type', `must be "code": ${FAQ}`],
    [
      "a provider's response_type",
      { providers: { github: { ...github, authorizationParams: { response_type: 'id_token token' } } } },
      'providers.github.authorizationParams.response_type',
      `must be "code": ${FAQ}`,
    ],
  ])('should refuse %s at startup', (_name, options, path, problem) => {
    let error: unknown;
    try {
      oauthMiddleware(options as never);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect({ message: (error as TypeError).message, code: (error as { code: string }).code, path: (error as { path: string }).path }).toEqual({
      message: `oauthMiddleware: \`${path}\` ${problem}`,
      code: 'ERR_OAUTH_CONFIG',
      path,
    });
  });

  it('should accept response_type code in authorizationParams (the only flow there is)', () => {
    expect(resolveConfig({ ...valid, authorizationParams: { response_type: 'code', prompt: 'login' } }).single!.authorizationParams).toEqual({ response_type: 'code', prompt: 'login' });
  });

  it.each([
    ['kitten', 'sitting', 3],
    ['', 'abc', 3],
    ['scope', 'scope', 0],
    ['flaw', 'lawn', 2],
  ])('should measure the edit distance from %j to %j as %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
  });

  it('should suggest the nearest key only when it is close', () => {
    expect([closestKey('CLIENTSECRET', ['clientId', 'clientSecret']), closestKey('pkc', ['pkce', 'scope']), closestKey('xyz', ['pkce', 'scope'])]).toEqual(['clientSecret', 'pkce', undefined]);
  });

  it('should name the provider in multi-provider paths', () => {
    expect(() => oauthMiddleware({ providers: { github: { ...valid, clientId: '' } } })).toThrow('oauthMiddleware: `providers.github.clientId` must be a non-empty string');
    expect(() => oauthMiddleware({ providers: { a: valid, b: valid } })).toThrow('`providers.b.redirectUri` has the same callback path as provider "a"');
  });

  it('should fill every default and freeze the result', () => {
    const config = resolveConfig({ ...valid, apiBaseUrl: 'https://api.example/v3/' });
    const p = config.single!;
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(p)).toBe(true);
    expect({
      name: p.name,
      method: p.tokenEndpointAuthMethod,
      pkce: p.pkce,
      scope: p.scope,
      leeway: p.refreshLeewayMs,
      retry: p.retryOn401,
      login: p.loginPath,
      callback: p.callbackPath,
      origins: [...p.allowedOrigins],
      placement: p.tokenPlacement,
    }).toEqual({
      name: 'default',
      method: 'client_secret_basic',
      pkce: true,
      scope: [],
      leeway: 60_000,
      retry: true,
      login: '/login',
      callback: '/auth/callback',
      origins: ['https://api.example'],
      placement: 'header',
    });
    expect([config.logoutPath, config.onRefreshFailure, config.postLoginRedirect, config.httpTimeoutMs]).toEqual(['/logout', 'relogin', '/', 10_000]);
    expect([...config.appOrigins]).toEqual(['https://app.example']);
    expect([config.idpLogout, config.postLogoutRedirect, config.postLogoutRedirectUri]).toEqual([false, '/', 'https://app.example/']);
  });

  it('should turn telemetry on by default when @opentelemetry/api is installed (a dev dependency here), off with `false`', () => {
    expect(resolveConfig(valid).telemetry).toBe(true);
    expect(resolveConfig({ ...valid, telemetry: true }).telemetry).toBe(true);
    expect(resolveConfig({ ...valid, telemetry: false }).telemetry).toBe(false);
  });

  it('should derive postLogoutRedirectUri from the app origin and postLogoutRedirect, or keep the given one as written', () => {
    expect(resolveConfig({ ...valid, idpLogout: true, postLogoutRedirect: '/bye?x=1' }).postLogoutRedirectUri).toBe('https://app.example/bye?x=1');
    expect(resolveConfig({ ...valid, postLogoutRedirectUri: 'https://app.example' }).postLogoutRedirectUri).toBe('https://app.example');
  });

  it('should refuse `login` as a provider name (req.oauth.login)', () => {
    expect(() => oauthMiddleware({ providers: { login: valid } })).toThrow('oauthMiddleware: `providers.login` name is taken by a req.oauth member; choose another');
  });

  it('should treat a config without secret as a public client and accept loopback http', () => {
    const p = resolveConfig({ ...valid, clientSecret: undefined, tokenUrl: 'http://127.0.0.1:9/token', scope: 'openid  email openid' }).single!;
    expect(p.tokenEndpointAuthMethod).toBe('none');
    expect(p.scope).toEqual(['openid', 'email']);
  });

  it('should derive per-provider routes with several providers', () => {
    const config = resolveConfig({ providers: { github: { ...valid, redirectUri: 'https://app.example/cb/github' }, google: { ...valid, redirectUri: 'https://app.example/cb/google' } } });
    expect([...config.providers.values()].map((p) => [p.name, p.loginPath, p.callbackPath])).toEqual([
      ['github', '/login/github', '/cb/github'],
      ['google', '/login/google', '/cb/google'],
    ]);
    expect(config.single).toBeUndefined();
  });
});
