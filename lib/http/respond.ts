import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Request/response helpers on Node's own API, so the middleware, routes, `requireAuth` and the
 * error handler work the same under Express 4, Express 5 and plain Connect.
 */

/** The path of a request URL (relative to the mount point), without query or fragment. */
export function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const end = raw.search(/[?#]/);
  return end < 0 ? raw : raw.slice(0, end);
}

/** The URL the client asked for, before any mount point was stripped (Express and Connect set it). */
export function originalUrl(req: IncomingMessage): string {
  return (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function noStore(res: ServerResponse): void {
  res.setHeader('Cache-Control', 'no-store');
}

export function redirect(res: ServerResponse, status: 302 | 303, location: string): void {
  res.statusCode = status;
  res.setHeader('Location', location);
  res.setHeader('Content-Length', '0');
  res.end();
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** The Content-Security-Policy of the package's pages: no script, no fetch, no frame; inline styles only. */
export const HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'";

/**
 * The security headers of every HTML page the package sends (error pages, the logout form, 403
 * pages): a CSP that allows nothing but inline styles, `nosniff`, and no framing. A page with a
 * form lists where the form may go (`form-action`, which `default-src` does not cover; browsers
 * also check it against the redirects that follow the submission).
 */
export function setHtmlSecurityHeaders(res: ServerResponse, formAction?: readonly string[]): void {
  res.setHeader('Content-Security-Policy', formAction ? `${HTML_CSP}; form-action ${formAction.join(' ')}` : HTML_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
}

/** An HTML page, with the security headers of {@link setHtmlSecurityHeaders}. */
export function sendHtml(res: ServerResponse, status: number, html: string, formAction?: readonly string[]): void {
  res.statusCode = status;
  setHtmlSecurityHeaders(res, formAction);
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(html));
  res.end(html);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface CookieAttributes {
  path?: string;
  domain?: string;
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: boolean | string;
}

/** Append a Set-Cookie header (keeps the ones already set). `maxAgeSeconds` 0 expires the cookie. */
export function setCookie(res: ServerResponse, name: string, value: string, maxAgeSeconds: number, options: CookieAttributes): void {
  const parts = [`${name}=${value}`, `Path=${options.path ?? '/'}`];
  parts.push(maxAgeSeconds > 0 ? `Max-Age=${maxAgeSeconds}` : 'Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  if (options.domain) parts.push(`Domain=${options.domain}`);
  if (options.httpOnly) parts.push('HttpOnly');
  if (options.secure) parts.push('Secure');
  if (options.sameSite) parts.push(`SameSite=${options.sameSite === true ? 'Strict' : options.sameSite[0]!.toUpperCase() + options.sameSite.slice(1)}`);
  const existing = res.getHeader('Set-Cookie');
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  res.setHeader('Set-Cookie', [...list, parts.join('; ')]);
}

/** Expire a cookie in the browser (same name, path and domain as when it was set). */
export function clearCookie(res: ServerResponse, name: string, options: CookieAttributes): void {
  setCookie(res, name, '', 0, options);
}

/** The value of the cookie `name` in the request's Cookie header (not URL-decoded), if sent once or more (first wins). */
export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const raw = header(req, 'cookie');
  if (!raw || !raw.includes(name)) return undefined;
  for (const pair of raw.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * True when `accept` prefers HTML to JSON, ranked as Express's `req.accepts(['json', 'html'])`
 * ranks them: quality, then specificity, then order in the header; a tie goes to JSON.
 */
export function prefersHtml(accept: string | undefined): boolean {
  const best = { html: { q: 0, s: -1, o: 0 }, json: { q: 0, s: -1, o: 0 } };
  (accept ?? '').split(',').forEach((part, o) => {
    const [range = '', ...params] = part.trim().toLowerCase().split(';');
    const [type, subtype] = range.trim().split('/');
    const qParam = params.map((p) => p.trim().split('=')).find(([k]) => k === 'q');
    const q = qParam ? Number(qParam[1]) : 1;
    if (!Number.isFinite(q)) return;
    for (const [name, t, st] of [
      ['html', 'text', 'html'],
      ['json', 'application', 'json'],
    ] as const) {
      const s = type === t && subtype === st ? 2 : type === t && subtype === '*' ? 1 : type === '*' && subtype === '*' ? 0 : -1;
      if (s > best[name].s) best[name] = { q, s, o };
    }
  });
  const { html, json } = best;
  if (html.q <= 0) return false;
  return html.q !== json.q ? html.q > json.q : html.s !== json.s ? html.s > json.s : html.o < json.o;
}

/**
 * A browser page load: GET/HEAD whose Accept prefers HTML over JSON (as Express's
 * `req.accepts(['json', 'html']) === 'html'`: ties, `*\/*` and no Accept go to JSON).
 */
export function wantsHtml(req: IncomingMessage): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && prefersHtml(header(req, 'accept'));
}
