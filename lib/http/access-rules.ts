// requireAuth's checks beyond "logged in": claims, step-up (acr, auth_time) and scopes. Written on
// Node's IncomingMessage/ServerResponse API (no Express response helpers).
import type { ServerResponse } from 'node:http';
import type { Request } from 'express';
import type { OAuthUser, ProviderClient } from '../client/provider-client.js';
import { OptionPath } from '../config/assert.js';
import { assertKnownKeys } from '../config/option-keys.js';
import { OAUTH_CODES, ReauthenticationRequiredError } from '../errors.js';
import { LOGIN_MARKER, LOGIN_STARTER } from '../client/provider-client.js';
import { safeReturnTo } from './routes/safe-redirect.js';
import { setHtmlSecurityHeaders, wantsHtml } from './respond.js';
import { assessLogin, grantedScope, type Shortfall, type StepUpRules } from './step-up.js';

/** Claims the user must have (each equal to the value given), or a predicate over `req.oauth.user`. */
export type ClaimsRequirement = Readonly<Record<string, string | number | boolean | null>> | ((user: OAuthUser) => boolean);

export interface AccessRules extends StepUpRules {
  claims?: ClaimsRequirement;
}

const RULE_KEYS = ['provider', 'scopes', 'acrValues', 'maxAge', 'claims'];
/** RFC 6749 §3.3 scope-token, minus the comma (GitHub separates granted scopes with commas). */
const SCOPE_TOKEN = /^[\x21\x23-\x2b\x2d-\x5b\x5d-\x7e]+$/;

function assertTokenList(value: unknown, at: OptionPath, what: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string' || !SCOPE_TOKEN.test(v))) {
    throw at.error(`must be a non-empty array of ${what} (no spaces, commas, quotes or backslashes)`);
  }
  return Object.freeze([...new Set(value as string[])]);
}

/** Validate requireAuth's rules at factory time (`TypeError` naming the option, as oauthMiddleware does). */
export function resolveAccessRules(options: Record<string, unknown>): AccessRules | undefined {
  const at = new OptionPath('requireAuth');
  assertKnownKeys(options, RULE_KEYS, at);
  if (options.provider !== undefined && (typeof options.provider !== 'string' || options.provider.length === 0)) throw at.key('provider').error('must be a provider name');
  const scopes = assertTokenList(options.scopes, at.key('scopes'), 'scope strings');
  const acrValues = assertTokenList(options.acrValues, at.key('acrValues'), 'acr values');
  const { maxAge, claims } = options;
  if (maxAge !== undefined && (typeof maxAge !== 'number' || !Number.isSafeInteger(maxAge) || maxAge < 0)) throw at.key('maxAge').error('must be a whole number of seconds ≥ 0');
  if (claims !== undefined && typeof claims !== 'function') {
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw at.key('claims').error('must be an object of claim values or a function (user) => boolean');
    for (const [name, value] of Object.entries(claims)) {
      if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) throw at.key('claims').key(name).error('must be a string, number, boolean or null');
    }
  }
  if (!scopes && !acrValues && maxAge === undefined && claims === undefined) return undefined;
  return Object.freeze({ scopes, acrValues, maxAge: maxAge as number | undefined, claims: claims as ClaimsRequirement | undefined });
}

function hasClaims(rule: ClaimsRequirement, user: OAuthUser): boolean {
  if (typeof rule === 'function') return rule(user) === true;
  return Object.entries(rule).every(([name, value]) => user[name] === value);
}

function send(req: Request, res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.statusCode = status;
  res.setHeader('Cache-Control', 'no-store');
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (type.startsWith('text/html')) setHtmlSecurityHeaders(res);
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(req.method === 'HEAD' ? undefined : body);
}

const FORBIDDEN_PAGE = (text: string) => `<!doctype html><meta charset="utf-8"><title>Forbidden</title><h1>Forbidden</h1><p>${text}</p>`;

function refuse(req: Request, res: ServerResponse, rules: AccessRules, shortfall: Shortfall): void {
  if (wantsHtml(req)) {
    send(req, res, 403, 'text/html; charset=utf-8', FORBIDDEN_PAGE('Your sign-in does not give the access this page needs.'));
  } else if (shortfall.authentication) {
    // RFC 9470 §3: the route needs a stronger or more recent authentication.
    const body: Record<string, string | number> = { error: 'insufficient_user_authentication' };
    let challenge = 'Bearer error="insufficient_user_authentication", error_description="A different authentication level is required"';
    if (rules.acrValues) challenge += `, acr_values="${(body.acr_values = rules.acrValues.join(' '))}"`;
    if (rules.maxAge !== undefined) challenge += `, max_age="${(body.max_age = rules.maxAge)}"`;
    send(req, res, 401, 'application/json; charset=utf-8', JSON.stringify(body), { 'WWW-Authenticate': challenge });
  } else {
    // RFC 6750 §3.1: the scope the route needs.
    const scope = (rules.scopes ?? []).join(' ');
    send(req, res, 403, 'application/json; charset=utf-8', JSON.stringify({ error: 'insufficient_scope', scope }), {
      'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${scope}"`,
    });
  }
}

/**
 * Apply a route's rules to a logged-in request. Resolves true when the request may continue;
 * otherwise a response was sent: claims unmet → 403; a login lacking scopes, `acr` or a recent
 * enough `auth_time` → on an HTML GET, a new login that asks for them (unless the current login
 * already asked and did not get them: 403), else 401 `insufficient_user_authentication` / 403
 * `insufficient_scope` with a `WWW-Authenticate` challenge.
 */
export async function enforceAccessRules(rules: AccessRules, req: Request, res: ServerResponse, client: ProviderClient): Promise<boolean> {
  if (rules.claims && !hasClaims(rules.claims, client.user ?? {})) {
    if (wantsHtml(req)) send(req, res, 403, 'text/html; charset=utf-8', FORBIDDEN_PAGE('Your account does not have access to this page.'));
    else send(req, res, 403, 'application/json; charset=utf-8', JSON.stringify({ error: 'forbidden', code: OAUTH_CODES.CLAIMS_UNMET }));
    return false;
  }
  if (!rules.scopes && !rules.acrValues && rules.maxAge === undefined) return true;
  const starter = client[LOGIN_STARTER]();
  const { provider } = starter;
  const marker = client[LOGIN_MARKER]();
  let granted: string[] | undefined;
  if (rules.scopes) {
    const tokens = await client.getToken();
    if (!marker || !tokens) throw new ReauthenticationRequiredError('Not logged in.', OAUTH_CODES.NOT_AUTHENTICATED);
    granted = grantedScope(tokens.scope, marker, provider.scope);
  }
  if (!marker) throw new ReauthenticationRequiredError('Not logged in.', OAUTH_CODES.NOT_AUTHENTICATED);
  const shortfall = assessLogin(rules, marker, granted, provider, Date.now());
  if (!shortfall) return true;
  if (req.method === 'GET' && wantsHtml(req) && !shortfall.exhausted && provider.loginPath !== false) {
    const originalUrl = (req as { originalUrl?: string }).originalUrl ?? req.url;
    const returnTo = safeReturnTo(originalUrl, starter.postLoginRedirect);
    const location = await starter.authorizationUrl(req, res, { returnTo, ...shortfall.login });
    res.statusCode = 302;
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Location', location);
    res.end();
    return false;
  }
  refuse(req, res, rules, shortfall);
  return false;
}
