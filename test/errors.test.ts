import {
  AuthorizationResponseError,
  InvalidCallbackError,
  OAuthError,
  OAUTH_CODES,
  ReauthenticationRequiredError,
  SessionUnavailableError,
  TokenEndpointError,
  isOAuthError,
} from 'express-oauth2-session';

describe('OAuthError family', () => {
  it.each([
    [new InvalidCallbackError('bad state'), 'InvalidCallbackError', 400, OAUTH_CODES.INVALID_CALLBACK, true],
    [new AuthorizationResponseError('access_denied', 403), 'AuthorizationResponseError', 403, OAUTH_CODES.AUTHORIZATION_DENIED, true],
    [new AuthorizationResponseError('server_error', 502), 'AuthorizationResponseError', 502, OAUTH_CODES.AUTHORIZATION_ERROR, true],
    [new TokenEndpointError('x', { status: 502, error: 'server_error' }), 'TokenEndpointError', 502, OAUTH_CODES.TOKEN_ENDPOINT, false],
    [new ReauthenticationRequiredError('log in'), 'ReauthenticationRequiredError', 401, OAUTH_CODES.REAUTHENTICATION_REQUIRED, true],
    [new SessionUnavailableError(), 'SessionUnavailableError', 503, OAUTH_CODES.SESSION_UNAVAILABLE, true],
  ])('should carry name, status, statusCode, code and expose for %s', (err, name, status, code, expose) => {
    expect(err).toBeInstanceOf(OAuthError);
    expect(err).toBeInstanceOf(Error);
    expect([err.name, err.status, err.statusCode, err.code, err.expose]).toEqual([name, status, status, code, expose]);
    expect(JSON.parse(JSON.stringify(err))).toEqual({ error: name, code, message: err.message });
    expect(isOAuthError(err)).toBe(true);
  });

  it('should recognise errors across realms by shape, and reject look-alikes', () => {
    expect(isOAuthError({ code: 'OAUTH_TIMEOUT', status: 504, message: 'x' })).toBe(true);
    expect(isOAuthError({ code: 'ECONNRESET', status: 502 })).toBe(false);
    expect(isOAuthError(new Error('plain'))).toBe(false);
    expect(isOAuthError(null)).toBe(false);
  });

  it('should keep the cause', () => {
    const cause = new Error('socket hang up');
    expect(new SessionUnavailableError('down', cause).cause).toBe(cause);
  });
});
