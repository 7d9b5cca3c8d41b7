import { assertAuthTime } from '../../lib/protocol/id-token';

// OIDC Core §3.1.2.1: a login that sent max_age needs auth_time in the verified ID token, no more
// than max_age (+ 5 s of clock skew) seconds ago.
const NOW = Date.UTC(2030, 0, 1);
const nowSeconds = NOW / 1000;

describe('assertAuthTime', () => {
  it('should pass when no max_age was sent, with or without claims', () => {
    expect(assertAuthTime(undefined, undefined, NOW)).toBeUndefined();
    expect(assertAuthTime({ sub: 'a' }, undefined, NOW)).toBeUndefined();
  });

  it('should pass up to max_age + 5 s after auth_time', () => {
    expect(assertAuthTime({ auth_time: nowSeconds - 305 }, 300, NOW)).toBeUndefined();
    expect(assertAuthTime({ auth_time: nowSeconds - 5 }, 0, NOW)).toBeUndefined();
  });

  it('should refuse an auth_time older than max_age + 5 s', () => {
    expect(() => assertAuthTime({ auth_time: nowSeconds - 306 }, 300, NOW)).toThrow(
      expect.objectContaining({ code: 'OAUTH_ID_TOKEN_INVALID', status: 502, message: 'The user authenticated longer ago than max_age allows (auth_time); log in again.' }),
    );
  });

  it.each([
    ['no verified ID token', undefined],
    ['no auth_time', { sub: 'a' }],
    ['a string auth_time', { auth_time: String(nowSeconds) }],
  ])('should refuse %s when max_age was sent', (_case, claims) => {
    expect(() => assertAuthTime(claims as never, 300, NOW)).toThrow(
      expect.objectContaining({ code: 'OAUTH_ID_TOKEN_INVALID', status: 502, message: 'max_age was requested but there is no verified ID token with auth_time.' }),
    );
  });
});
