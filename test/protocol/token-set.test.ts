import { fromTokenResponse, isExpiring } from '../../lib/protocol/token-set';

const NOW = 1_700_000_000_000;

describe('fromTokenResponse', () => {
  it('should map the wire format to a TokenSet with an absolute expiry', () => {
    expect(fromTokenResponse({ access_token: 'at', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt', scope: 'a b', id_token: 'idt', extra: 1 }, NOW)).toEqual({
      accessToken: 'at',
      tokenType: 'bearer',
      expiresAt: NOW + 3_600_000,
      issuedAt: NOW,
      refreshToken: 'rt',
      scope: 'a b',
      idToken: 'idt',
    });
  });

  it.each([
    ['numeric string expires_in', { expires_in: '60' }, NOW + 60_000],
    ['Stack Exchange expires', { expires: 86400 }, NOW + 86_400_000],
    ['no expiry', {}, undefined],
  ])('should read %s', (_name, extra, expiresAt) => {
    expect(fromTokenResponse({ access_token: 'at', token_type: 'bearer', ...extra }, NOW).expiresAt).toBe(expiresAt);
  });

  it.each([
    ['missing access_token', { token_type: 'bearer' }, 'The token endpoint response has no access_token.'],
    ['empty access_token', { access_token: '', token_type: 'bearer' }, 'The token endpoint response has no access_token.'],
    ['numeric access_token', { access_token: 123, token_type: 'bearer' }, 'The token endpoint response has no access_token.'],
    ['missing token_type', { access_token: 'at' }, 'The token endpoint returned a token_type other than Bearer.'],
    ['mac token_type', { access_token: 'at', token_type: 'mac' }, 'The token endpoint returned a token_type other than Bearer.'],
    ['text expires_in', { access_token: 'at', token_type: 'bearer', expires_in: 'soon' }, 'The token endpoint returned a non-numeric expires_in.'],
  ])('should reject %s with a 502', (_name, body, message) => {
    expect(() => fromTokenResponse(body, NOW)).toThrow(expect.objectContaining({ message, status: 502, code: 'OAUTH_INVALID_TOKEN_RESPONSE' }));
  });

  it('should keep the previous refresh token VALUE when a refresh response has none (simple-oauth2 5.1.0 drops it)', () => {
    const previous = fromTokenResponse({ access_token: 'at1', token_type: 'bearer', refresh_token: 'rt-original', scope: 's' }, NOW);
    const next = fromTokenResponse({ access_token: 'at2', token_type: 'bearer', expires_in: 60 }, NOW, previous);
    expect(next.refreshToken).toBe('rt-original');
    expect(next.scope).toBe('s');
    expect(next.accessToken).toBe('at2');
  });

  it('should replace the refresh token when the response rotates it', () => {
    const previous = fromTokenResponse({ access_token: 'at1', token_type: 'bearer', refresh_token: 'rt1' }, NOW);
    expect(fromTokenResponse({ access_token: 'at2', token_type: 'bearer', refresh_token: 'rt2' }, NOW, previous).refreshToken).toBe('rt2');
  });
});

describe('isExpiring', () => {
  const tokens = { accessToken: 'at', tokenType: 'bearer', expiresAt: NOW + 3_600_000 };
  it('should refresh early by the leeway, never late', () => {
    expect(isExpiring(tokens, NOW + 3_539_000, 60_000)).toBe(false);
    expect(isExpiring(tokens, NOW + 3_541_000, 60_000)).toBe(true);
    expect(isExpiring(tokens, NOW + 3_700_000, 0)).toBe(true);
  });
  it('should never proactively refresh a token without expiry', () => {
    expect(isExpiring({ accessToken: 'at', tokenType: 'bearer' }, NOW * 2, 60_000)).toBe(false);
  });
});
