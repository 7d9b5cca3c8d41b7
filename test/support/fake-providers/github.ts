// GitHub's OAuth wire format, from its docs (authorizing-oauth-apps, troubleshooting-oauth-app-
// access-token-request-errors, REST "User-Agent"): client credentials as form parameters; the
// answer is form-encoded unless `Accept: application/json`; errors come with HTTP 200; OAuth-app
// tokens carry no expires_in and no refresh_token; the REST API refuses requests without User-Agent.
import { codeChecker, type FakeHandlers, type Reply, type RecordedRequest } from './fake-provider';

export const GITHUB_TOKEN = 'gho_16C7e42F292c6912E7710c838347Ae178B4a';

function answer(req: RecordedRequest, fields: Record<string, string>, ignoreAccept: boolean): Reply {
  if (!ignoreAccept && req.headers.accept?.includes('application/json')) return { body: fields };
  return { type: 'application/x-www-form-urlencoded; charset=utf-8', body: new URLSearchParams(fields).toString() };
}

const ERRORS = {
  incorrect_client_credentials: 'The client_id and/or client_secret passed are incorrect.',
  bad_verification_code: 'The code passed is incorrect or expired.',
} as const;

/** `ignoreAccept`: answer form-encoded even when JSON is asked for (the default format). */
export function githubWire(client: { clientId: string; clientSecret: string }, options: { ignoreAccept?: boolean } = {}): FakeHandlers {
  const validCode = codeChecker();
  const ignoreAccept = options.ignoreAccept ?? false;
  const error = (req: RecordedRequest, code: keyof typeof ERRORS) =>
    answer(
      req,
      { error: code, error_description: ERRORS[code], error_uri: `https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#${code.replace(/_/g, '-')}` },
      ignoreAccept,
    );
  return {
    tokenPath: '/login/oauth/access_token',
    token(req, log) {
      if (req.form.get('client_id') !== client.clientId || req.form.get('client_secret') !== client.clientSecret) return error(req, 'incorrect_client_credentials');
      if (!validCode(req.form.get('code'), log)) return error(req, 'bad_verification_code');
      return answer(req, { access_token: GITHUB_TOKEN, scope: 'read:user', token_type: 'bearer' }, ignoreAccept);
    },
    api(req) {
      if (!req.headers['user-agent']) {
        return {
          status: 403,
          type: 'text/plain; charset=utf-8',
          body: 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required).',
        };
      }
      if (req.headers.authorization !== `Bearer ${GITHUB_TOKEN}`) return { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' } };
      if (req.path === '/user') return { body: { login: 'octocat', id: 583231, type: 'User' } };
      return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' } };
    },
  };
}
