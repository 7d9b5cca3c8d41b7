import type { TLSSocket } from 'node:tls';
import type { Request } from 'express';
import { printable, WARNING_CODES, type Diagnosis, type Diagnostics } from '../diagnostics.js';
import { TRANSACTION_TTL_MS } from '../session/session-data.js';
import { sessionCookieFacts } from '../session/cookie-facts.js';
import { header } from './respond.js';

/** Over https (Express's `req.secure`, which honours `trust proxy`; else the socket's TLS). */
export function isSecureRequest(req: Request): boolean {
  const secure = (req as Request & { secure?: unknown }).secure;
  return typeof secure === 'boolean' ? secure : (req.socket as TLSSocket | undefined)?.encrypted === true;
}

/** The host (and port) the browser used: the first `X-Forwarded-Host`, else `Host`; normalised as URL hosts are. */
export function browserHost(req: Request, protocol: string): string | undefined {
  const raw = (header(req, 'x-forwarded-host') ?? header(req, 'host'))?.split(',')[0]?.trim();
  if (!raw) return undefined;
  try {
    return new URL(`${protocol}//${raw}`).host;
  } catch {
    return undefined;
  }
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The browser is on another loopback name than redirectUri's (`localhost` against `127.0.0.1`): a
 * cookie set on one is never sent to the other. Other differences are not reported: behind a
 * proxy the Host header often names the app server, not what the browser used.
 */
export function isLoopbackHostMismatch(host: string, redirect: URL): boolean {
  const name = host.replace(/:\d+$/, '');
  return name !== redirect.hostname && LOOPBACK.has(name) && LOOPBACK.has(redirect.hostname);
}

/**
 * A `secure` session cookie on a request that is not https: express-session never sets it, so the
 * callback comes back without the session. Tells apart a plain http app, a proxy that sends
 * `X-Forwarded-Proto: https` that Express does not trust, and a TLS proxy that does not send it.
 */
export function secureCookieDiagnosis(req: Request, cookieSecure: boolean, redirect: URL): Diagnosis | undefined {
  if (!cookieSecure || isSecureRequest(req)) return undefined;
  const proto = header(req, 'x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  if (proto === 'https') {
    return {
      code: WARNING_CODES.PROXY_NOT_TRUSTED,
      problem:
        'The request came through a proxy that sends "X-Forwarded-Proto: https", but the app does not trust the proxy, so the request counts as http and express-session never sets its `secure` session cookie: the login cannot complete.',
      fix: 'app.set("trust proxy", 1) (the number of proxies in front of the app), or express-session\u2019s `proxy: true`.',
    };
  }
  if (redirect.protocol === 'https:') {
    return {
      code: WARNING_CODES.PROXY_WITHOUT_FORWARDED_PROTO,
      problem: `redirectUri is https but this request reached the app over http without "X-Forwarded-Proto: https", so express-session never sets its \`secure\` session cookie: the login cannot complete.`,
      fix: 'Make the TLS proxy send X-Forwarded-Proto (nginx: proxy_set_header X-Forwarded-Proto $scheme;) and app.set("trust proxy", 1).',
    };
  }
  return {
    code: WARNING_CODES.COOKIE_SECURE_ON_HTTP,
    problem: 'The session cookie is `secure` but the app is served over http, so express-session never sets it and the callback arrives without the session: the login cannot complete.',
    fix: 'Serve the app over https, or set the express-session cookie option `secure: false` in local development (or `secure: "auto"`).',
  };
}

/**
 * Why a callback found no pending login, for one provider, when the request itself shows it (a
 * callback whose session holds none is otherwise a replay or an expired login). Login starts are
 * checked too, so the cause is logged before the first callback fails. Each cause is logged once.
 */
export class LoginDiagnostics {
  readonly #redirect: URL;
  /** The last login start on a host other than redirectUri's, and when (within a login's lifetime it explains a cookie-less callback). */
  #foreignHost: { host: string; at: number } | undefined;

  constructor(
    private readonly diagnostics: Diagnostics,
    private readonly provider: { name: string; redirectUri: string },
  ) {
    this.#redirect = new URL(provider.redirectUri);
  }

  #hostMismatch(host: string): Diagnosis {
    const expected = `${this.#redirect.protocol}//${this.#redirect.host}`;
    return {
      code: WARNING_CODES.HOST_MISMATCH,
      problem: `The login started at host ${printable(host, 100)} but redirectUri sends the browser back to ${expected}; cookies belong to one host, so the callback arrives without the session cookie and the login cannot complete.`,
      fix: `Open the app at ${expected} (the host of redirectUri), or set redirectUri to the host you use (and register it at the provider). Behind a proxy that rewrites Host, forward the browser\u2019s host (X-Forwarded-Host).`,
    };
  }

  /** At each login start (cheap: header reads): a `secure` cookie over http, or a host other than redirectUri's. */
  atLoginStart(req: Request): void {
    const cookie = secureCookieDiagnosis(req, sessionCookieFacts(req).secure, this.#redirect);
    if (cookie) this.diagnostics.diagnosed(this.provider.name, cookie);
    const host = browserHost(req, this.#redirect.protocol);
    if (host !== undefined && isLoopbackHostMismatch(host, this.#redirect)) {
      this.#foreignHost = { host, at: Date.now() };
      this.diagnostics.diagnosed(this.provider.name, this.#hostMismatch(host));
    }
  }

  /** A callback whose session holds no pending login: the cause when the request shows one, logged once. */
  atCallbackWithoutLogin(req: Request): Diagnosis | undefined {
    const facts = sessionCookieFacts(req);
    if (facts.sent) return undefined;
    const diagnosis = facts.unknownSent ? this.#sessionLost() : this.#noCookie(req, facts.secure);
    this.diagnostics.diagnosed(this.provider.name, diagnosis);
    return diagnosis;
  }

  #noCookie(req: Request, cookieSecure: boolean): Diagnosis {
    const secure = secureCookieDiagnosis(req, cookieSecure, this.#redirect);
    if (secure) return secure;
    const host = browserHost(req, this.#redirect.protocol);
    if (host !== undefined && isLoopbackHostMismatch(host, this.#redirect)) return this.#hostMismatch(host);
    const foreign = this.#foreignHost;
    if (foreign && Date.now() - foreign.at < TRANSACTION_TTL_MS) return this.#hostMismatch(foreign.host);
    const expected = `${this.#redirect.protocol}//${this.#redirect.host}`;
    return {
      code: WARNING_CODES.NO_SESSION_COOKIE,
      problem: 'The browser sent no session cookie with the callback, so there is no pending login to complete (a callback URL opened again in another browser also looks like this).',
      fix: `Start logins at the app\u2019s login route on ${expected} (the host of redirectUri); keep the express-session cookie \`sameSite: "lax"\` and its path and domain covering the callback path.`,
    };
  }

  #sessionLost(): Diagnosis {
    return {
      code: WARNING_CODES.SESSION_LOST,
      problem:
        'The browser sent a session cookie, but the session store has no session for it: it expired, the store lost it (MemoryStore after a restart, several processes each with their own MemoryStore), or the session secret changed.',
      fix: 'Use a shared persistent store (such as connect-redis) and a stable session secret, then start the login again.',
    };
  }
}
