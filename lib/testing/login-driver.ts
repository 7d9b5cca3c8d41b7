// Browserless driver for oidc-provider's development login and consent pages: follows redirects
// by hand with a path-aware cookie jar (Node's fetch keeps no cookies) and stops at the first
// redirect that leaves the authorization server, returning that callback URL.

/** Minimal cookie jar: origin + path matching, Max-Age/Expires deletion. */
export class CookieJar {
  readonly #cookies = new Map<string, { name: string; value: string; origin: string; path: string; expires: number }>();

  store(url: string, response: Response): void {
    const { origin, pathname } = new URL(url);
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attrs] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = pathname.replace(/\/[^/]*$/, '') || '/';
      let expires = Infinity;
      for (const attr of attrs) {
        const [k = '', ...v] = attr.split('=');
        const key = k.trim().toLowerCase();
        const val = v.join('=').trim();
        if (key === 'path' && val.startsWith('/')) path = val;
        else if (key === 'max-age') expires = Date.now() + Number(val) * 1000;
        else if (key === 'expires' && expires === Infinity) expires = Date.parse(val);
      }
      const id = `${origin} ${path} ${name}`;
      if (expires <= Date.now()) this.#cookies.delete(id);
      else this.#cookies.set(id, { name, value, origin, path, expires });
    }
  }

  header(url: string): string | undefined {
    const { origin, pathname } = new URL(url);
    const now = Date.now();
    const parts: string[] = [];
    for (const c of this.#cookies.values()) {
      if (c.origin !== origin || c.expires <= now) continue;
      if (c.path === '/' || pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)) parts.push(`${c.name}=${c.value}`);
    }
    return parts.length ? parts.join('; ') : undefined;
  }
}

function decodeEntities(s: string): string {
  return s
    .replace(/&#x2F;/gi, '/')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/**
 * The provider's `response_mode=form_post` page (OAuth 2.0 Form Post Response Mode §2): an
 * auto-submitting form whose action is the redirect URI (outside the provider) and whose hidden
 * inputs are the authorization response.
 */
function parseFormPostResponse(html: string, pageUrl: string): { action: string; params: URLSearchParams } | undefined {
  const form = /<form\b[^>]*\bmethod="post"[^>]*\baction="([^"]+)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form?.[1]) return undefined;
  const action = new URL(decodeEntities(form[1]), pageUrl).toString();
  if (new URL(action).origin === new URL(pageUrl).origin) return undefined;
  const params = new URLSearchParams();
  for (const input of (form[2] ?? '').matchAll(/<input\b[^>]*\btype="hidden"[^>]*>/gi)) {
    const name = /\bname="([^"]*)"/i.exec(input[0]);
    const value = /\bvalue="([^"]*)"/i.exec(input[0]);
    if (name?.[1]) params.append(decodeEntities(name[1]), decodeEntities(value?.[1] ?? ''));
  }
  return { action, params };
}

function parseInteractionForm(html: string, pageUrl: string): { action: string; prompt: string | undefined } | undefined {
  const form = /<form\b[^>]*\baction="([^"]+)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form?.[1]) return undefined;
  const prompt = /<input\b[^>]*\bname="prompt"[^>]*\bvalue="([^"]*)"/i.exec(form[2] ?? '');
  return { action: new URL(decodeEntities(form[1]), pageUrl).toString(), prompt: prompt?.[1] };
}

export interface AuthorizeResult {
  /** The redirect URI with the response in its query; with form_post, the redirect URI the form posts to. */
  callbackUrl: string;
  /** `GET` (a redirect) or `POST` (`response_mode=form_post`: send `params` as the form body to `callbackUrl`). */
  method: 'GET' | 'POST';
  code?: string;
  state?: string;
  error?: string;
  params: URLSearchParams;
  jar: CookieJar;
}

export interface AuthorizeOptions {
  /** Login name (becomes `sub`); any name works. Default `alice`. */
  user?: string;
  /** false: press "abort" at the consent page (→ error=access_denied). */
  consent?: boolean;
  /** Reuse to keep the AS login session (SSO) across logins. */
  jar?: CookieJar;
}

/** Walk an authorization URL through the test provider's login and consent pages. */
export async function authorizeWithoutBrowser(authorizationUrl: string, options: AuthorizeOptions = {}): Promise<AuthorizeResult> {
  const { user = 'alice', consent = true, jar = new CookieJar() } = options;
  const asOrigin = new URL(authorizationUrl).origin;
  let method = 'GET';
  let url = authorizationUrl;
  let body: string | undefined;
  for (let step = 0; step < 20; step += 1) {
    const headers: Record<string, string> = { accept: 'text/html' };
    const cookie = jar.header(url);
    if (cookie) headers.cookie = cookie;
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, { method, headers, body, redirect: 'manual' });
    jar.store(url, res);
    if (res.status >= 300 && res.status < 400) {
      await res.arrayBuffer();
      const location = new URL(res.headers.get('location') ?? '', url).toString();
      if (new URL(location).origin !== asOrigin) {
        const params = new URL(location).searchParams;
        return { callbackUrl: location, method: 'GET', code: params.get('code') ?? undefined, state: params.get('state') ?? undefined, error: params.get('error') ?? undefined, params, jar };
      }
      [method, url, body] = ['GET', location, undefined];
      continue;
    }
    const html = await res.text();
    const posted = parseFormPostResponse(html, url);
    if (posted) {
      const { action, params } = posted;
      return { callbackUrl: action, method: 'POST', code: params.get('code') ?? undefined, state: params.get('state') ?? undefined, error: params.get('error') ?? undefined, params, jar };
    }
    const form = res.status === 200 ? parseInteractionForm(html, url) : undefined;
    if (!form?.prompt)
      throw new Error(
        `no login/consent form at ${url} (HTTP ${res.status}): ${html
          .replace(/<[^>]+>/g, ' ')
          .replace(/\s+/g, ' ')
          .slice(0, 300)}`,
      );
    if (form.prompt === 'login') {
      [method, url, body] = ['POST', form.action, new URLSearchParams({ prompt: 'login', login: user, password: 'test' }).toString()];
    } else if (form.prompt === 'consent' && consent) {
      [method, url, body] = ['POST', form.action, new URLSearchParams({ prompt: 'consent' }).toString()];
    } else {
      [method, url, body] = ['GET', `${form.action.replace(/\/$/, '')}/abort`, undefined];
    }
  }
  throw new Error('login did not reach the redirect URI within 20 steps');
}

export interface EndSessionResult {
  /** Where the provider sent the browser after the confirmation (`post_logout_redirect_uri?state=…`). */
  redirectUrl: string;
  /** The confirmation page's HTML, as the provider showed it. */
  confirmationPage: string;
  /**
   * Front-channel logout: the `frontchannel_logout_uri` frames the provider's page showed (with
   * `iss` and `sid`), each loaded as a browser loads a third-party frame (no cookies), and its status.
   */
  frontchannelLogout: Array<{ url: string; status: number }>;
}

/** The iframes and the continue link of the provider's front-channel logout page. */
function parseFrontchannelPage(html: string, pageUrl: string): { frames: string[]; next: string } | undefined {
  const frames = [...html.matchAll(/<iframe\b[^>]*\bclass="frontchannel"[^>]*\bsrc="([^"]+)"/gi)].map((m) => new URL(decodeEntities(m[1] as string), pageUrl).toString());
  const next = /<a\b[^>]*\bid="continue"[^>]*\bhref="([^"]+)"/i.exec(html);
  return next?.[1] ? { frames, next: new URL(decodeEntities(next[1]), pageUrl).toString() } : undefined;
}

/**
 * Walk the provider's RP-initiated logout: GET the end-session URL (the `Location` of your app's
 * `POST /logout` with `idpLogout: true`), then POST the confirmation form it shows ("Yes, sign me
 * out"). Pass the `jar` of the login to end the provider's own session too. When the provider
 * answers with front-channel logout frames, each is loaded (as a browser would), then the walk
 * continues where the page's script would go.
 */
export async function endSessionWithoutBrowser(endSessionUrl: string, options: { jar?: CookieJar } = {}): Promise<EndSessionResult> {
  const jar = options.jar ?? new CookieJar();
  const send = async (url: string, init: RequestInit = {}) => {
    const cookie = jar.header(url);
    const res = await fetch(url, { ...init, headers: { accept: 'text/html', ...(cookie ? { cookie } : {}), ...(init.headers as Record<string, string>) }, redirect: 'manual' });
    jar.store(url, res);
    return res;
  };
  const page = await send(endSessionUrl);
  const html = await page.text();
  const form = /<form\b[^>]*\bid="op\.logoutForm"[^>]*\baction="([^"]+)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  const xsrf = form && /<input\b[^>]*\bname="xsrf"[^>]*\bvalue="([^"]*)"/i.exec(form[2] ?? '');
  if (!form?.[1] || !xsrf)
    throw new Error(
      `no logout confirmation form at ${endSessionUrl} (HTTP ${page.status}): ${html
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .slice(0, 300)}`,
    );
  const action = new URL(decodeEntities(form[1]), endSessionUrl).toString();
  const body = new URLSearchParams({ xsrf: xsrf[1] ?? '', logout: 'yes' }).toString();
  const done = await send(action, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  if (done.status === 200) {
    const framing = parseFrontchannelPage(await done.text(), action);
    if (!framing) throw new Error('the logout confirmation answered HTTP 200 without a front-channel logout page');
    const frontchannelLogout = [];
    for (const url of framing.frames) {
      const frame = await fetch(url, { headers: { accept: 'text/html' }, redirect: 'manual' });
      await frame.arrayBuffer();
      frontchannelLogout.push({ url, status: frame.status });
    }
    return { redirectUrl: framing.next, confirmationPage: html, frontchannelLogout };
  }
  await done.arrayBuffer();
  const location = done.headers.get('location');
  if (done.status < 300 || done.status >= 400 || !location) throw new Error(`the logout confirmation answered HTTP ${done.status}, not a redirect`);
  return { redirectUrl: new URL(location, action).toString(), confirmationPage: html, frontchannelLogout: [] };
}
