import type { RequestListener } from 'node:http';
import request from 'supertest';
import { authorizeWithoutBrowser } from 'express-oauth2-session/testing';

/** The `Set-Cookie` lines of a response. */
export function setCookies(res: { headers: Record<string, unknown> }): string[] {
  const set = res.headers['set-cookie'];
  return Array.isArray(set) ? (set as string[]) : typeof set === 'string' ? [set] : [];
}

/** The `name=value` of the first cookie a response set whose name starts with `prefix`. */
export function cookiePair(res: { headers: Record<string, unknown> }, prefix: string): string {
  const line = setCookies(res).find((c) => c.startsWith(prefix));
  if (!line) throw new Error(`the response set no ${prefix}… cookie`);
  return line.split(';')[0] as string;
}

/**
 * A form_post login up to the provider's answer, as a browser sees it: GET /login (a session
 * cookie and the binding cookie), the provider's login and consent pages, then its auto-submitting
 * form. Returns what the cross-site POST would carry: the form fields and the binding cookie (no
 * session cookie: SameSite=Lax keeps it off a cross-site POST).
 */
export async function formPostLogin(app: RequestListener, options: { user?: string; loginPath?: string } = {}) {
  const start = await request(app)
    .get(options.loginPath ?? '/login')
    .expect(302);
  const authorizationUrl = start.headers.location as string;
  const result = await authorizeWithoutBrowser(authorizationUrl, { user: options.user ?? 'alice' });
  if (result.method !== 'POST') throw new Error(`the provider answered with ${result.method}, not form_post`);
  return { start, authorizationUrl, binding: cookiePair(start, 'oauth.fp.'), session: cookiePair(start, 'connect.sid='), form: result.params, callbackPath: new URL(result.callbackUrl).pathname };
}

/** The provider's form_post, sent to the app as a cross-site POST carrying only `cookie`. */
export function postCallback(app: RequestListener, path: string, form: URLSearchParams | string, cookie?: string) {
  const req = request(app).post(path).set('content-type', 'application/x-www-form-urlencoded').set('accept', 'application/json');
  return (cookie ? req.set('cookie', cookie) : req).send(form.toString());
}
