import type { Request } from 'express';
import { OAUTH_CODES, type OAuthError } from '../errors.js';
import { escapeHtml } from './respond.js';

/**
 * What an error means for the person who sees it, and so the page's title and next step:
 * `retry`: sign in again (a stale or replayed login, a refused code); `denied`: the provider or the
 * app said no; `misconfigured`: the app is set up wrong, for the developer (retrying cannot help);
 * `unavailable`: the provider or the session store is down, try again later.
 */
export type ErrorFamily = 'retry' | 'denied' | 'misconfigured' | 'unavailable';

/** Diagnoses that prove a setup problem (every login fails): docs/troubleshooting.md. */
const SETUP_DIAGNOSES: ReadonlySet<string> = new Set(['OAUTH_COOKIE_SECURE_ON_HTTP', 'OAUTH_PROXY_NOT_TRUSTED', 'OAUTH_PROXY_WITHOUT_FORWARDED_PROTO', 'OAUTH_HOST_MISMATCH']);
const MISCONFIGURED: ReadonlySet<string> = new Set([
  OAUTH_CODES.RESOURCE_METADATA_MISMATCH,
  OAUTH_CODES.ORIGIN_NOT_ALLOWED,
  OAUTH_CODES.MIDDLEWARE_MISSING,
  OAUTH_CODES.UNKNOWN_PROVIDER,
  OAUTH_CODES.HOOK_FAILED,
]);
const UNAVAILABLE: ReadonlySet<string> = new Set([
  OAUTH_CODES.SESSION_UNAVAILABLE,
  OAUTH_CODES.NETWORK,
  OAUTH_CODES.TIMEOUT,
  OAUTH_CODES.TOO_MANY_LOGINS,
  OAUTH_CODES.INVALID_TOKEN_RESPONSE,
  OAUTH_CODES.RESPONSE_TOO_LARGE,
]);
const DENIED: ReadonlySet<string> = new Set([
  OAUTH_CODES.AUTHORIZATION_DENIED,
  OAUTH_CODES.CLAIMS_UNMET,
  OAUTH_CODES.LOGOUT_FORBIDDEN,
  OAUTH_CODES.INSUFFICIENT_SCOPE,
  OAUTH_CODES.STEP_UP_REQUIRED,
  OAUTH_CODES.TENANT_NOT_ALLOWED,
]);

export function errorFamily(err: OAuthError): ErrorFamily {
  const diagnosis = (err as OAuthError & { diagnosis?: { code: string } }).diagnosis;
  if (diagnosis && SETUP_DIAGNOSES.has(diagnosis.code)) return 'misconfigured';
  if (MISCONFIGURED.has(err.code)) return 'misconfigured';
  if (UNAVAILABLE.has(err.code)) return 'unavailable';
  if (DENIED.has(err.code)) return 'denied';
  // A refused client (invalid_client: 500) or a discovery document that does not fit the config (502)
  // fails every login; a provider that does not answer (503) or fails (502 token endpoint) is temporary.
  if (err.code === OAUTH_CODES.DISCOVERY) return err.status === 503 ? 'unavailable' : 'misconfigured';
  if (err.status === 500) return 'misconfigured';
  if (err.status > 500) return 'unavailable';
  return 'retry';
}

const TEXT: Record<ErrorFamily, { title: string; lead: string }> = {
  retry: { title: 'Sign-in did not complete', lead: 'The sign-in could not be finished. Signing in again usually fixes this.' },
  denied: { title: 'Access denied', lead: 'The sign-in was refused.' },
  misconfigured: {
    title: 'This site\u2019s sign-in is not set up correctly',
    lead: 'Trying again will not help: the site\u2019s developers need to fix its configuration. The reason is in the server\u2019s log.',
  },
  unavailable: { title: 'Sign-in is temporarily unavailable', lead: 'A service that sign-in depends on is not answering. Please try again in a few minutes.' },
};

/** Where each message of the package is explained (also shipped: node_modules/express-oauth2-session/docs/troubleshooting.md). */
export const TROUBLESHOOTING_URL = 'https://github.com/express-oauth2-session/express-oauth2-session/blob/main/docs/troubleshooting.md';

/**
 * Development (Express's `env` setting is not "production"): the page adds a "for the developer"
 * part with the real message and the diagnosis. Plain Connect has no such setting: never.
 */
export function isDevelopment(req: Request): boolean {
  const app = (req as Request & { app?: { get?: (name: string) => unknown } }).app;
  return typeof app?.get === 'function' && app.get('env') !== 'production';
}

const GENERIC = 'The sign-in service failed; try again.';

/** The message users may see: the error's own when it is safe to show (`expose`), else a generic one. */
export function publicMessage(err: OAuthError): string {
  return err.expose ? err.message : GENERIC;
}

/** A small page for people, not programs: what happened and what to do next; every text is escaped. */
export function errorPage(err: OAuthError, options: { loginPath: string | false; development: boolean }): string {
  const family = errorFamily(err);
  const { title, lead } = TEXT[family];
  const diagnosis = (err as OAuthError & { diagnosis?: { code: string; problem: string; fix: string } }).diagnosis;
  const lines = [`<p>${escapeHtml(lead)}</p>`];
  const messageShown = family !== 'misconfigured' && err.expose;
  if (messageShown) lines.push(`<p>${escapeHtml(err.message)}</p>`);
  const links: string[] = [];
  if (options.loginPath && family !== 'misconfigured') links.push(`<a href="${escapeHtml(options.loginPath)}">${family === 'unavailable' ? 'Try again' : 'Try signing in again'}</a>`);
  links.push('<a href="/">Home</a>');
  lines.push(`<p>${links.join(' · ')}</p>`);
  if (options.development) {
    const dev = [`<h2>For the developer</h2>${messageShown ? '' : `<p>${escapeHtml(err.message)}</p>`}`];
    if (diagnosis) dev.push(`<p><b>Cause (${escapeHtml(diagnosis.code)}):</b> ${escapeHtml(diagnosis.problem)}</p><p><b>Fix:</b> ${escapeHtml(diagnosis.fix)}</p>`);
    const anchor = (diagnosis?.code ?? err.code).toLowerCase();
    dev.push(
      `<p>See <a href="${TROUBLESHOOTING_URL}#${escapeHtml(anchor)}">the troubleshooting guide</a> (<code>docs/troubleshooting.md#${escapeHtml(anchor)}</code> in the package). This part is shown only outside production.</p>`,
    );
    lines.push(`<section style="border-left:4px solid #c60;padding:0 1rem;background:#fff8f0">${dev.join('')}</section>`);
  }
  return (
    `<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title>` +
    `<main style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem"><h1>${escapeHtml(title)}</h1>${lines.join('')}` +
    `<p style="color:#666;font-size:.85em">${escapeHtml(err.code)} (HTTP ${err.status})</p></main>`
  );
}
