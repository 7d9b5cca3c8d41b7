// Google's token endpoint wire format (developers.google.com/identity/protocols/oauth2/web-server):
// a refresh token only for access_type=offline (and prompt=consent for a returning user); a
// refresh response carries a new access token but no refresh_token; an unknown refresh token is
// 400 invalid_grant. token_type is "Bearer", expires_in 3599.
import { codeChecker, type FakeHandlers } from './fake-provider';

export const GOOGLE_REFRESH_TOKEN = '1//0gRefresh-canary';

export function googleWire(): FakeHandlers {
  const validCode = codeChecker();
  let issued = 0;
  return {
    token(req, log) {
      const grant = req.form.get('grant_type');
      const authorize = log.filter((r) => r.path === '/authorize').at(-1);
      issued += 1;
      const base = { access_token: `ya29.a0-${issued}`, expires_in: 3599, scope: 'openid', token_type: 'Bearer' };
      if (grant === 'authorization_code' && validCode(req.form.get('code'), log)) {
        const offline = authorize?.query.get('access_type') === 'offline' && authorize.query.get('prompt') === 'consent';
        return { body: offline ? { ...base, refresh_token: GOOGLE_REFRESH_TOKEN } : base };
      }
      if (grant === 'refresh_token' && req.form.get('refresh_token') === GOOGLE_REFRESH_TOKEN) return { body: base };
      return { status: 400, body: { error: 'invalid_grant', error_description: 'Bad Request' } };
    },
    api(req) {
      const auth = req.headers.authorization ?? '';
      if (!/^Bearer ya29\.a0-\d+$/.test(auth)) return { status: 401, body: { error: 'invalid_request', error_description: 'Invalid Credentials' } };
      return { body: { sub: '110169484474386276334', auth } };
    },
  };
}
