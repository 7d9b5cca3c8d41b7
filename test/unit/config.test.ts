import { oauthMiddleware } from 'express-oauth2-session';
import { resolveConfig } from '../../lib/config/resolve';

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
    ['tokenEndpointAuthMethod', { tokenEndpointAuthMethod: 'private_key_jwt' }, '`tokenEndpointAuthMethod` must be one of client_secret_basic, client_secret_post, none'],
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
      name: p.name, method: p.tokenEndpointAuthMethod, pkce: p.pkce, scope: p.scope, leeway: p.refreshLeewayMs, retry: p.retryOn401,
      login: p.loginPath, callback: p.callbackPath, origins: [...p.allowedOrigins], placement: p.tokenPlacement,
    }).toEqual({
      name: 'default', method: 'client_secret_basic', pkce: true, scope: [], leeway: 60_000, retry: true,
      login: '/login', callback: '/auth/callback', origins: ['https://api.example'], placement: 'header',
    });
    expect([config.logoutPath, config.onRefreshFailure, config.postLoginRedirect, config.httpTimeoutMs]).toEqual(['/logout', 'relogin', '/', 10_000]);
    expect([...config.appOrigins]).toEqual(['https://app.example']);
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
