// Stack Exchange's wire format, from api.stackexchange.com/docs/authentication and /error-handling:
// the token endpoint takes client_id, client_secret, code and redirect_uri as form parameters and
// answers `access_token=...&expires=1234` (form) or, on the /json path, the same fields as JSON;
// no token_type, no refresh_token, no `expires` with scope no_expiry. API calls carry access_token
// and key in the query; every API error is HTTP 400 with error_id / error_name / error_message.
import { codeChecker, lastAuthorizeScope, type FakeHandlers, type Reply } from './fake-provider';

export const SE_TOKEN = 'se(Token)canary*42';
export const SE_LIFETIME_S = 86400;

function apiError(id: number, name: string, message: string): Reply {
  return { status: 400, body: { error_id: id, error_name: name, error_message: message } };
}

export function stackExchangeWire(app: { clientId: string; clientSecret: string; key: string; redirectUri: string }, options: { json: boolean }): FakeHandlers {
  const validCode = codeChecker();
  return {
    tokenPath: options.json ? '/oauth/access_token/json' : '/oauth/access_token',
    token(req, log) {
      const f = req.form;
      if (f.get('client_id') !== app.clientId || f.get('client_secret') !== app.clientSecret || f.get('redirect_uri') !== app.redirectUri || !validCode(f.get('code'), log)) {
        return { status: 400, body: { error: { type: 'invalid_request', message: 'invalid code or client' } } };
      }
      const fields: Record<string, string | number> = { access_token: SE_TOKEN };
      if (!lastAuthorizeScope(log).includes('no_expiry')) fields.expires = SE_LIFETIME_S;
      if (options.json) return { body: fields };
      return { type: 'text/plain; charset=utf-8', body: new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)])).toString() };
    },
    api(req) {
      const token = req.query.get('access_token');
      if (!req.query.get('site')) return apiError(400, 'bad_parameter', 'site is required');
      if (token && !req.query.get('key')) return apiError(405, 'key_required', 'key is required when access_token is passed');
      if (req.query.has('key') && req.query.get('key') !== app.key) return apiError(400, 'bad_parameter', 'key');
      if (!token) return apiError(401, 'access_token_required', 'no access_token passed');
      if (token !== SE_TOKEN) return apiError(402, 'invalid_access_token', 'invalid access_token');
      if (req.path !== '/2.3/me') return apiError(404, 'no_method', 'no method found with this name');
      return { body: { items: [{ user_id: 1, display_name: 'dev' }], has_more: false, quota_max: 10000, quota_remaining: 9999 } };
    },
  };
}
