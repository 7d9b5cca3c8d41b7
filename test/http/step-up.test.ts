import { prefersHtml } from '../../lib/http/respond';
import { assessLogin, grantedScope, parseScope } from '../../lib/http/step-up';
import type { LoginMarker } from '../../lib/session/session-format';

// The decisions behind requireAuth({ scopes, acrValues, maxAge }), without sockets.
const NOW = 1_700_000_000_000;
const SECONDS = NOW / 1000;
const provider = { scope: ['openid', 'email'], authorizationParams: { prompt: 'consent', access_type: 'offline' }, incrementalAuthorizationParams: { include_granted_scopes: 'true' } };
const marker = (extra: Partial<LoginMarker> = {}): LoginMarker => ({ authenticatedAt: NOW - 60_000, sub: 'alice', ...extra });

describe('assessLogin', () => {
  it('should pass a login that satisfies every rule', () => {
    expect(assessLogin({ scopes: ['email'], acrValues: ['mfa'], maxAge: 300 }, marker({ acr: 'mfa', authTime: SECONDS - 300 }), ['openid', 'email'], provider, NOW)).toBeUndefined();
  });

  it('should ask for the union of configured, granted and missing scopes with the incremental parameters', () => {
    expect(assessLogin({ scopes: ['drive'] }, marker(), ['openid', 'email', 'calendar'], provider, NOW)).toEqual({
      authentication: false,
      missingScopes: ['drive'],
      exhausted: false,
      login: {
        scope: ['openid', 'email', 'calendar', 'drive'],
        params: { prompt: 'consent', access_type: 'offline', include_granted_scopes: 'true' },
        stepUp: { scope: 'openid email calendar drive' },
      },
    });
  });

  it('should add prompt=login and acr_values for an unmet acr, and keep the configured prompt', () => {
    expect(assessLogin({ acrValues: ['mfa', 'hwk'] }, marker({ acr: 'pwd' }), undefined, provider, NOW)?.login).toEqual({
      scope: ['openid', 'email'],
      params: { prompt: 'login consent', access_type: 'offline', acr_values: 'mfa hwk' },
      stepUp: { acrValues: 'mfa hwk' },
    });
  });

  it('should send the stricter max_age when auth_time is too old or absent', () => {
    const withConfigured = { ...provider, authorizationParams: { max_age: '120' } };
    expect(assessLogin({ maxAge: 300 }, marker({ authTime: SECONDS - 306 }), undefined, withConfigured, NOW)?.login.params).toEqual({ max_age: '120' });
    expect(assessLogin({ maxAge: 300 }, marker(), undefined, provider, NOW)?.login.stepUp).toEqual({ maxAge: 300 });
    expect(assessLogin({ maxAge: 300 }, marker({ authTime: SECONDS - 305 }), undefined, provider, NOW)).toBeUndefined();
  });

  it.each([
    ['the scope was asked and not granted', { scopes: ['drive'] }, marker({ stepUp: { scope: 'openid email drive' } }), ['openid', 'email'], true],
    ['the configured scope already asked for it', { scopes: ['email'] }, marker(), ['openid'], true],
    ['a scope never asked', { scopes: ['drive'] }, marker({ stepUp: { scope: 'openid email calendar' } }), ['openid', 'email', 'calendar'], false],
    ['the acr was asked and another given', { acrValues: ['mfa'] }, marker({ acr: 'pwd', stepUp: { acrValues: 'mfa' } }), undefined, true],
    ['a stronger acr than the one asked', { acrValues: ['hwk'] }, marker({ acr: 'pwd', stepUp: { acrValues: 'mfa' } }), undefined, false],
    ['max_age was asked by a fresh login', { maxAge: 300 }, marker({ stepUp: { maxAge: 300 } }), undefined, true],
    ['max_age was asked by an old login', { maxAge: 30 }, marker({ stepUp: { maxAge: 30 } }), undefined, false],
  ] as const)('should decide whether asking again would loop when %s', (_name, rules, login, granted, exhausted) => {
    expect(assessLogin(rules, login, granted, provider, NOW)?.exhausted).toBe(exhausted);
  });
});

describe('grantedScope / parseScope', () => {
  it('should read the token scope, GitHub commas included', () => {
    expect(parseScope('repo,read:user gist')).toEqual(['repo', 'read:user', 'gist']);
    expect(grantedScope('a b', marker(), ['x'])).toEqual(['a', 'b']);
  });

  it('should take the requested scope when the token response omitted it (RFC 6749 §5.1)', () => {
    expect(grantedScope(undefined, marker({ stepUp: { scope: 'openid drive' } }), ['openid'])).toEqual(['openid', 'drive']);
    expect(grantedScope(undefined, marker(), ['openid', 'email'])).toEqual(['openid', 'email']);
  });
});

describe('prefersHtml (as req.accepts(["json", "html"]) === "html")', () => {
  it.each([
    [undefined, false],
    ['*/*', false],
    ['application/json', false],
    ['text/html', true],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', true],
    ['text/html, */*', true],
    ['application/json, text/html', false],
    ['text/html, application/json', true],
    ['text/*;q=0.5, application/json;q=0.4', true],
    ['text/html;q=0', false],
  ])('%s → %s', (accept, html) => {
    expect(prefersHtml(accept)).toBe(html);
  });
});
