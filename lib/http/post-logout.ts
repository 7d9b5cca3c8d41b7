import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomState } from '../protocol/pkce.js';
import { clearCookie, noStore, readCookie, redirect, setCookie, type CookieAttributes } from './respond.js';
import { rawQuery, safeReturnTo, singleParam } from './routes/safe-redirect.js';

const COOKIE_NAME = 'oauth.logout';
/** Long enough to read the provider's logout confirmation page. */
const COOKIE_TTL_SECONDS = 600;

export interface PostLogoutOptions {
  postLogoutRedirect: string;
  postLogoutRedirectUri: string;
  appOrigins: ReadonlySet<string>;
}

/**
 * The way back from the provider's end-session endpoint to the logout's `returnTo`. The provider
 * only ever redirects to the registered `postLogoutRedirectUri`, echoing `state`. So the logout
 * keeps `returnTo` in a short-lived cookie bound to a random `state`; the landing (a GET of that
 * URI's path with the cookie) checks the state, clears the cookie and sends the browser on.
 * Without the cookie, or with another state, the landing is the app's own page, untouched.
 */
export class PostLogoutReturn {
  /** The landing path; undefined when `postLogoutRedirectUri` is on another origin than the app. */
  readonly path: string | undefined;
  readonly #fallback: string;
  readonly #cookie: CookieAttributes;

  constructor(options: PostLogoutOptions) {
    const uri = new URL(options.postLogoutRedirectUri);
    this.path = options.appOrigins.has(uri.origin) ? uri.pathname : undefined;
    this.#fallback = options.postLogoutRedirect;
    this.#cookie = { path: this.path, httpOnly: true, sameSite: 'lax', secure: uri.protocol === 'https:' };
  }

  /**
   * Before the end-session redirect: remember `returnTo` (a same-origin path the caller validated),
   * returning the `state` for the end-session request. Undefined when there is nothing to
   * remember (no explicit returnTo) or no landing on this app's origin.
   */
  remember(res: ServerResponse, returnTo: string | undefined): string | undefined {
    if (!this.path || !returnTo) return undefined;
    const state = randomState();
    setCookie(res, COOKIE_NAME, `${state}.${Buffer.from(returnTo).toString('base64url')}`, COOKIE_TTL_SECONDS, this.#cookie);
    return state;
  }

  /** At the landing path: true when this was the provider's redirect back (answered 303 to returnTo). */
  land(req: IncomingMessage, res: ServerResponse): boolean {
    const value = readCookie(req, COOKIE_NAME);
    if (value === undefined) return false;
    clearCookie(res, COOKIE_NAME, this.#cookie);
    const dot = value.indexOf('.');
    const state = singleParam(rawQuery(req.url ?? '/'), 'state');
    if (dot < 1 || state !== value.slice(0, dot)) return false;
    const returnTo = Buffer.from(value.slice(dot + 1), 'base64url').toString();
    noStore(res);
    redirect(res, 303, safeReturnTo(returnTo, this.#fallback));
    return true;
  }
}
