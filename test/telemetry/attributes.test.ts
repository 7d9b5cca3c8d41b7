import { errorType, httpClientAttributes, httpSpanName, oauthErrorCode, redactedUrl } from '../../lib/telemetry/attributes';
import { OAUTH_CODES, ReauthenticationRequiredError, TimeoutError, TokenEndpointError } from '../../lib/errors';

describe('telemetry attributes', () => {
  it('should drop user info and fragment from url.full and replace every query value, keeping the names', () => {
    expect(redactedUrl(new URL('https://user:pass@api.example:8443/v1/items?access_token=abc&key=k%20v&q=1#frag'))).toBe(
      'https://api.example:8443/v1/items?access_token=REDACTED&key=REDACTED&q=REDACTED',
    );
    expect(redactedUrl(new URL('https://api.example/v1/items'))).toBe('https://api.example/v1/items');
    expect(redactedUrl(new URL('https://api.example/search?a%26b=1'))).toBe('https://api.example/search?a%26b=REDACTED');
  });

  it('should give the semantic-convention HTTP client attributes, with _OTHER for an unknown method', () => {
    expect(httpClientAttributes('GET', new URL('http://127.0.0.1:4000/me?x=1'))).toEqual({
      'http.request.method': 'GET',
      'http.request.method_original': undefined,
      'url.full': 'http://127.0.0.1:4000/me?x=REDACTED',
      'server.address': '127.0.0.1',
      'server.port': 4000,
    });
    expect(httpClientAttributes('PROPFIND', new URL('https://dav.example/'))).toMatchObject({ 'http.request.method': '_OTHER', 'http.request.method_original': 'PROPFIND', 'server.port': 443 });
    expect(httpSpanName('POST')).toBe('POST');
    expect(httpSpanName('PROPFIND')).toBe('HTTP');
  });

  it('should type errors by code or class name, never by message', () => {
    expect(errorType(new TimeoutError('took 10 s with token abc'))).toBe('OAUTH_TIMEOUT');
    expect(errorType(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(errorType(new RangeError('secret-value'))).toBe('RangeError');
    expect(errorType(Object.assign(new Error('x'), { code: 'has spaces and secret', name: 'bad name!' }))).toBe('_OTHER');
    expect(errorType('a string')).toBe('_OTHER');
    expect(errorType(undefined)).toBe('_OTHER');
  });

  it('should name only a registered token-endpoint error code, from the error or its cause', () => {
    const rejected = new TokenEndpointError('rejected', { status: 400, error: 'invalid_grant' });
    expect(oauthErrorCode(rejected)).toBe('invalid_grant');
    expect(oauthErrorCode(new TokenEndpointError('refused', { status: 400, error: 'invalid_target' }))).toBe('invalid_target');
    expect(oauthErrorCode(new ReauthenticationRequiredError('log in again', OAUTH_CODES.REAUTHENTICATION_REQUIRED, rejected))).toBe('invalid_grant');
    expect(oauthErrorCode(new TokenEndpointError('odd', { status: 400, error: 'my_custom_error_with_user_id_42' }))).toBeUndefined();
    expect(oauthErrorCode(new Error('plain'))).toBeUndefined();
  });
});
