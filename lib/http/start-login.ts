import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request } from 'express';
import type { LoginBegin, LoginRequest, LoginStarter, RuleLoginStarter } from '../client/login-request.js';
import type { ProviderLink } from '../client/provider-link.js';
import { debugFor } from '../debug.js';
import { MAX_AGE } from '../config/assert.js';
import { OAUTH_CODES, OAuthError } from '../errors.js';
import { loginAuthorizationParams } from '../protocol/authorize-url.js';
import { buildAuthorizationRedirect } from '../protocol/par.js';
import { randomCodeVerifier, randomState } from '../protocol/pkce.js';
import type { LoginStore } from '../session/login-store.js';
import type { PendingLogin } from '../session/session-format.js';
import { noStore, redirect } from './respond.js';
import { safeReturnTo, singleParam } from './routes/safe-redirect.js';

const log = debugFor('login');

/**
 * Begin a login: a new transaction (state, PKCE verifier, nonce when the scope has `openid`) saved
 * in the session, and the authorization URL to redirect the browser to (RFC 6749 §4.1.1).
 */
export async function beginLogin(link: ProviderLink, logins: LoginStore, req: Request, start: LoginBegin): Promise<string> {
  const { provider } = link;
  const endpoints = await link.endpoints();
  const par = link.pushedAuthorization(endpoints);
  // With PAR every login start is an authenticated request to the provider: a session that already
  // holds the most pending logins kept (10 in 10 minutes) gets no further push (README: rate limits).
  if (par && logins.pendingLoginsFull(req)) {
    throw new OAuthError(OAUTH_CODES.TOO_MANY_LOGINS, 'Too many sign-ins were started in this session; finish one, or try again in a few minutes.', { status: 429, expose: true });
  }
  const state = randomState();
  const codeVerifier = provider.pkce ? randomCodeVerifier() : undefined;
  const nonce = start.scope.includes('openid') ? randomState() : undefined;
  const login: PendingLogin = { provider: provider.name, codeVerifier, nonce, returnTo: start.returnTo, createdAt: Date.now() };
  if (start.maxAge !== undefined) login.maxAge = start.maxAge;
  if (start.stepUp) login.stepUp = start.stepUp;
  await logins.begin(req, state, login);
  log(start.stepUp ? 'step-up login started for %s' : 'login started for %s', provider.name);
  return buildAuthorizationRedirect(
    {
      authorizationUrl: endpoints.authorizationUrl,
      clientId: provider.clientId,
      redirectUri: provider.redirectUri,
      scope: start.scope,
      state,
      codeVerifier,
      nonce,
      params: start.params,
    },
    par,
  );
}

/** requireAuth's login start for one provider of one middleware instance (see `RuleLoginStarter`). */
export function ruleLoginStarter(link: ProviderLink, logins: LoginStore, postLoginRedirect: string): RuleLoginStarter {
  const { name, scope, authorizationParams, incrementalAuthorizationParams, loginPath } = link.provider;
  return Object.freeze({
    provider: Object.freeze({ name, scope, authorizationParams, incrementalAuthorizationParams, loginPath }),
    postLoginRedirect,
    begin: (req: IncomingMessage, start: LoginBegin) => beginLogin(link, logins, req as Request, start),
  });
}

export interface LoginStart extends Partial<LoginRequest> {
  /** `/login` query: `returnTo` and the allow-listed parameters; the configured ones win over them. */
  query?: URLSearchParams;
}

/**
 * Start a login, for the `/login` route and for `req.oauth.login`, then 302 to the authorization
 * endpoint (or PAR's `request_uri`). Parameters, the later winning: `/login` query (allow-listed,
 * only names the config leaves unset) < configured `authorizationParams` < per-login ones from code. Per-login scopes add to the configured ones.
 */
export async function startLogin(req: IncomingMessage, res: ServerResponse, link: ProviderLink, logins: LoginStore, postLoginRedirect: string, start: LoginStart): Promise<void> {
  const { provider } = link;
  noStore(res);
  const returnTo = safeReturnTo(start.returnTo ?? (start.query && singleParam(start.query, 'returnTo')), postLoginRedirect);
  const scope = start.scope?.length ? [...new Set([...provider.scope, ...start.scope])] : provider.scope;
  const configured = loginAuthorizationParams(provider.authorizationParams, start.query ?? new URLSearchParams());
  const params = { ...configured.params, ...start.authorizationParams };
  const maxAge = params.max_age !== undefined && MAX_AGE.test(params.max_age) ? Number(params.max_age) : undefined;
  redirect(res, 302, await beginLogin(link, logins, req as Request, { returnTo, scope, params, maxAge }));
}

/** `req.oauth.login` through the http layer (the client never imports http/). */
export function loginStarter(logins: LoginStore, postLoginRedirect: string): LoginStarter {
  return function startProgrammaticLogin(res, link, request) {
    const req = (res as ServerResponse & { req?: IncomingMessage }).req;
    if (!req) return Promise.reject(new TypeError('req.oauth.login: `res` must be the response of the current request'));
    return startLogin(req, res, link, logins, postLoginRedirect, request);
  };
}
