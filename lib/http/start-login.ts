import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request } from 'express';
import type { LoginRequest, LoginStarter } from '../client/login-request.js';
import type { ProviderLink } from '../client/provider-link.js';
import { debugFor } from '../debug.js';
import { buildAuthorizationUrl } from '../protocol/authorize-url.js';
import { randomCodeVerifier, randomState } from '../protocol/pkce.js';
import type { LoginStore } from '../session/login-store.js';
import { noStore, redirect } from './respond.js';
import { safeReturnTo, singleParam } from './routes/safe-redirect.js';

const log = debugFor('login');

/** Authorization parameters a login link may pass through (`/login?prompt=login`). */
export const PASS_THROUGH_PARAMS = ['prompt', 'login_hint', 'ui_locales', 'max_age', 'acr_values'] as const;

export interface LoginStart extends Partial<LoginRequest> {
  /** `/login` query: `returnTo` and the allow-listed parameters; the configured ones win over them. */
  query?: URLSearchParams;
}

/** The allow-listed parameters of a `/login` query string (each once, at most 256 characters). */
function queryParams(query: URLSearchParams | undefined): Record<string, string> {
  const params: Record<string, string> = {};
  if (!query) return params;
  for (const name of PASS_THROUGH_PARAMS) {
    const value = singleParam(query, name);
    if (value !== undefined && value.length <= 256) params[name] = value;
  }
  return params;
}

/**
 * Start a login, for the `/login` route and for `req.oauth.login`: a new transaction (state, PKCE
 * verifier, nonce) saved in the session, then 302 to the authorization endpoint. Parameters, the
 * later winning: `/login` query (allow-listed) < configured `authorizationParams` < per-login
 * ones from code. Per-login scopes add to the configured ones.
 */
export async function startLogin(req: IncomingMessage, res: ServerResponse, link: ProviderLink, logins: LoginStore, postLoginRedirect: string, start: LoginStart): Promise<void> {
  const { provider } = link;
  noStore(res);
  const returnTo = safeReturnTo(start.returnTo ?? (start.query && singleParam(start.query, 'returnTo')), postLoginRedirect);
  const endpoints = await link.endpoints();
  const scope = start.scope?.length ? [...new Set([...provider.scope, ...start.scope])] : provider.scope;
  const state = randomState();
  const codeVerifier = provider.pkce ? randomCodeVerifier() : undefined;
  const nonce = scope.includes('openid') ? randomState() : undefined;
  const params = { ...queryParams(start.query), ...provider.authorizationParams, ...start.authorizationParams };
  await logins.begin(req as Request, state, { p: provider.name, v: codeVerifier, n: nonce, r: returnTo, t: Date.now() });
  log('login started for %s', provider.name);
  redirect(res, 302, buildAuthorizationUrl({
    authorizationUrl: endpoints.authorizationUrl,
    clientId: provider.clientId,
    redirectUri: provider.redirectUri,
    scope,
    state,
    codeVerifier,
    nonce,
    params,
  }));
}

/** `req.oauth.login` through the http layer (the client never imports http/). */
export function loginStarter(logins: LoginStore, postLoginRedirect: string): LoginStarter {
  return function startProgrammaticLogin(res, link, request) {
    const req = (res as ServerResponse & { req?: IncomingMessage }).req;
    if (!req) return Promise.reject(new TypeError('req.oauth.login: `res` must be the response of the current request'));
    return startLogin(req, res, link, logins, postLoginRedirect, request);
  };
}
