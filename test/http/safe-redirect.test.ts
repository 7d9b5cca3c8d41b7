import { safeReturnTo } from '../../lib/http/routes/safe-redirect';
import { codeChallengeS256, randomCodeVerifier, randomState } from '../../lib/protocol/pkce';
import { buildAuthorizationUrl } from '../../lib/protocol/authorize-url';

describe('safeReturnTo (checklist #14)', () => {
  it.each([
    '//evil.com',
    '/\\evil.com',
    '\\\\evil.com',
    '/\t/evil.com',
    '/\r\n/evil.com',
    '///evil.com',
    'https://evil.com',
    'http:evil.com',
    'https://app.example@evil.com',
    'javascript:alert(1)',
    ' javascript:alert(1)',
    'JAVASCRIPT:alert(1)',
    'data:text/html,<script>',
    '/.//evil.com',
    '/a/..//evil.com',
    '',
    'relative/path',
    42,
    ['/a', '//evil.com'],
    undefined,
  ])('should fall back for %j', (value) => {
    expect(safeReturnTo(value, '/home')).toBe('/home');
  });

  it.each([
    ['/profile', '/profile'],
    ['/search?q=a%20b#top', '/search?q=a%20b#top'],
    ['/%2F%2Fevil.com', '/%2F%2Fevil.com'],
    ['/%5Cevil.com', '/%5Cevil.com'],
    ['/a/../b', '/b'],
  ])('should keep the same-origin path %j as %j (never decoded twice)', (value, expected) => {
    expect(safeReturnTo(value, '/home')).toBe(expected);
  });
});

describe('PKCE and the authorization URL (checklist #7)', () => {
  it('should compute the RFC 7636 appendix B S256 challenge', () => {
    expect(codeChallengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('should make 43-character unreserved verifiers and states, never repeating in 1000 draws', () => {
    const draws = Array.from({ length: 1000 }, () => [randomCodeVerifier(), randomState()]).flat();
    expect(draws.every((v) => /^[A-Za-z0-9_-]{43}$/.test(v))).toBe(true);
    expect(new Set(draws).size).toBe(2000);
  });

  it('should build the authorization request with S256, state, nonce and extra params, keeping existing query', () => {
    const url = new URL(
      buildAuthorizationUrl({
        authorizationUrl: 'https://as.example/authorize?tenant=t1',
        clientId: 'c',
        redirectUri: 'https://app/cb',
        scope: ['openid', 'email'],
        state: 's',
        codeVerifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
        nonce: 'n',
        params: { prompt: 'consent', response_type: 'token' },
      }),
    );
    expect(Object.fromEntries(url.searchParams)).toEqual({
      tenant: 't1',
      prompt: 'consent',
      response_type: 'code',
      client_id: 'c',
      redirect_uri: 'https://app/cb',
      scope: 'openid email',
      state: 's',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      nonce: 'n',
    });
  });
});
