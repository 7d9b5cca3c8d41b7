import { resolveConfig } from '../../lib/config/resolve';
import type { OAuthMiddlewareOptions } from '../../lib/config/options';

// `backchannelLogout` and `dpop`: defaults, accepted values and the TypeError for each bad one.
const base = { clientId: 'c', clientSecret: 's', issuer: 'https://as.example', redirectUri: 'https://app.example/callback' };
const resolve = (extra: Record<string, unknown>, options: Record<string, unknown> = base) => resolveConfig({ ...options, ...extra } as unknown as OAuthMiddlewareOptions);

describe('resolveConfig: backchannelLogout', () => {
  it.each<[unknown, string | false]>([
    [undefined, false],
    [false, false],
    [true, '/backchannel-logout'],
    [{}, '/backchannel-logout'],
    [{ path: '/oidc/logout' }, '/oidc/logout'],
  ])('should resolve %j to the route path %j', (value, path) => {
    expect(resolve({ backchannelLogout: value }).backchannelLogoutPath).toBe(path);
  });

  it.each<[unknown, boolean]>([
    [true, false],
    [{}, false],
    [{ endSession: false }, false],
    [{ endSession: true }, true],
    [{ path: '/oidc/logout', endSession: true }, true],
  ])('should resolve %j to ending the whole session: %j', (value, endSession) => {
    expect(resolve({ backchannelLogout: value }).backchannelLogoutEndsSession).toBe(endSession);
  });

  it.each<[unknown, Record<string, unknown>, string]>([
    ['yes', base, 'oauthMiddleware: `backchannelLogout` must be true, false or { path, endSession }'],
    [{ endSession: 'yes' }, base, 'oauthMiddleware: `backchannelLogout.endSession` must be a boolean'],
    [{ path: 'logout' }, base, 'oauthMiddleware: `backchannelLogout.path` must be a path starting with "/" or false'],
    [{ path: false }, base, 'oauthMiddleware: `backchannelLogout.path` must be a path starting with "/"; set `backchannelLogout: false` to turn the route off'],
    [{ paths: '/x' }, base, 'oauthMiddleware: `backchannelLogout.paths` is not an option; did you mean `path`?'],
    [
      true,
      { clientId: 'c', authorizationUrl: 'https://as.example/a', tokenUrl: 'https://as.example/t', redirectUri: 'https://app.example/cb' },
      'oauthMiddleware: `backchannelLogout` needs a provider with `issuer` (the logout token is verified against its signing keys)',
    ],
  ])('should throw for %j', (value, options, message) => {
    expect(() => resolve({ backchannelLogout: value }, options)).toThrow(new TypeError(message));
  });
});

describe('resolveConfig: dpop', () => {
  it('should default to false and take true', () => {
    expect([resolve({}).single?.dpop, resolve({ dpop: true }).single?.dpop]).toEqual([false, true]);
  });

  it('should throw for a value that is not a boolean', () => {
    expect(() => resolve({ dpop: 'on' })).toThrow(TypeError);
    expect(() => resolve({ dpop: 'on' })).toThrow('`dpop`');
  });
});
