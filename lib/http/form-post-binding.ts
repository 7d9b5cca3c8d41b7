// `responseMode: 'form_post'`: the provider answers with a cross-site POST to the callback, which
// browsers send without a `SameSite=Lax` session cookie. The login is therefore bound to a cookie of
// its own (as express-openid-connect does): `SameSite=None; Secure; HttpOnly`, scoped to the
// callback path, living as long as the login transaction, named after the login's state (so two
// tabs never overwrite each other's). Its value names the session that holds the transaction and a
// random binding the transaction also holds: the POST proves it comes from the browser that
// started the login, and without it (absent, forged, another browser's) the callback is refused.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRANSACTION_TTL_MS } from '../session/session-data.js';
import { header } from './respond.js';

const PREFIX = 'oauth.fp.';
const SESSION_ID = /^[A-Za-z0-9_-]{1,512}$/;

/** The binding cookie's name for a login's `state` (a short hash: the state itself never appears in it). */
export function bindingCookieName(state: string): string {
  return `${PREFIX}${createHash('sha256').update(state).digest('base64url').slice(0, 16)}`;
}

/** A fresh random binding (128 bits), kept in the pending login. */
export function newBinding(): string {
  return randomBytes(16).toString('base64url');
}

function appendSetCookie(res: ServerResponse, cookie: string): void {
  const previous = res.getHeader('Set-Cookie');
  const list = previous === undefined ? [] : Array.isArray(previous) ? previous : [String(previous)];
  res.setHeader('Set-Cookie', [...list, cookie]);
}

/** Set the binding cookie of a new form_post login (the session id is base64url, so any id fits a cookie value). */
export function setBindingCookie(res: ServerResponse, callbackPath: string, state: string, sessionId: string, binding: string): void {
  const value = `${Buffer.from(sessionId, 'utf8').toString('base64url')}.${binding}`;
  appendSetCookie(res, `${bindingCookieName(state)}=${value}; Path=${callbackPath}; Max-Age=${TRANSACTION_TTL_MS / 1000}; HttpOnly; Secure; SameSite=None`);
}

/** Remove the binding cookie once its callback was handled (success or refusal). */
export function clearBindingCookie(res: ServerResponse, callbackPath: string, state: string): void {
  appendSetCookie(res, `${bindingCookieName(state)}=; Path=${callbackPath}; Max-Age=0; HttpOnly; Secure; SameSite=None`);
}

/** The binding cookie a callback POST carries for `state`: exactly one, well-formed; else undefined. */
export function readBindingCookie(req: IncomingMessage, state: string): { sessionId: string; binding: string } | undefined {
  const name = bindingCookieName(state);
  const values = (header(req, 'cookie') ?? '')
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair.startsWith(`${name}=`))
    .map((pair) => pair.slice(name.length + 1));
  if (values.length !== 1) return undefined;
  const [encodedId, binding, ...rest] = (values[0] as string).split('.');
  if (rest.length > 0 || !encodedId || !binding || !SESSION_ID.test(encodedId) || !SESSION_ID.test(binding)) return undefined;
  const sessionId = Buffer.from(encodedId, 'base64url').toString('utf8');
  return sessionId.length > 0 ? { sessionId, binding } : undefined;
}

/** Constant-time comparison of the cookie's binding with the one the pending login holds. */
export function sameBinding(expected: string | undefined, presented: string): boolean {
  if (expected === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
