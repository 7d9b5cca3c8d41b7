import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request } from 'express';
import type { AuthorizationRequest, LoginRequest, LoginStarter } from '../client/login-request.js';
import type { ProviderLink } from '../client/provider-link.js';
import { debugFor } from '../debug.js';
import { MAX_AGE } from '../config/assert.js';
import { OAUTH_CODES, OAuthError } from '../errors.js';
import { loginAuthorizationParams } from '../protocol/authorize-url.js';
import { buildAuthorizationRedirect } from '../protocol/par.js';
import { randomCodeVerifier, randomState } from '../protocol/pkce.js';
import type { LoginStore } from '../session/login-store.js';
import type { PendingLogin } from '../session/session-format.js';
import { newBinding, setBindingCookie } from './form-post-binding.js';
import type { LoginDiagnostics } from './login-diagnostics.js';
import { noStore, redirect } from './respond.js';
import { safeReturnTo, singleParam } from './routes/safe-redirect.js';
import { ATTR } from '../telemetry/attributes.js';

const log = debugFor('login');

/**
 * A new pending login (state, PKCE verifier, nonce when the scope has `openid`; with form_post its
 * binding, also set as its cookie on `res`) saved in the session, and the authorization URL to redirect the browser to (RFC 6749 §4.1.1; PAR's
 * `request_uri` when pushed).
 */
function pendingLoginUrl(link: ProviderLink, logins: LoginStore, req: Request, res: ServerResponse, request: AuthorizationRequest, diagnostics?: LoginDiagnostics): Promise<string> {
  const attributes = { [ATTR.provider]: link.name, [ATTR.stepUp]: request.stepUp !== undefined };
  return link.telemetry.span('oauth2.login', attributes, async (span) => {
    const url = await beginLogin(link, logins, req, res, request, diagnostics);
    span.set(ATTR.par, url.pushed);
    return url.location;
  });
}

/** `pendingLoginUrl` without its span. */
async function beginLogin(
  link: ProviderLink,
  logins: LoginStore,
  req: Request,
  res: ServerResponse,
  request: AuthorizationRequest,
  diagnostics?: LoginDiagnostics,
): Promise<{ location: string; pushed: boolean }> {
  const { provider } = link;
  diagnostics?.atLoginStart(req);
  const endpoints = await link.endpoints();
  const par = link.pushedAuthorization(endpoints);
  // With PAR every login start is an authenticated request to the provider: a session that already
  // holds the most pending logins kept (10 in 10 minutes) gets no further push (docs/providers.md: rate limits).
  if (par && logins.pendingLoginsFull(req)) {
    throw new OAuthError(OAUTH_CODES.TOO_MANY_LOGINS, 'Too many sign-ins were started in this session; finish one, or try again in a few minutes.', { status: 429, expose: true });
  }
  const state = randomState();
  const codeVerifier = provider.pkce ? randomCodeVerifier() : undefined;
  const nonce = request.scope.includes('openid') ? randomState() : undefined;
  const login: PendingLogin = { provider: provider.name, codeVerifier, nonce, returnTo: request.returnTo, createdAt: Date.now() };
  if (request.maxAge !== undefined) login.maxAge = request.maxAge;
  if (request.stepUp) login.stepUp = request.stepUp;
  const formPost = provider.responseMode === 'form_post';
  if (formPost) login.formPostBinding = newBinding();
  const sessionId = await logins.begin(req, state, login);
  if (formPost) setBindingCookie(res, new URL(provider.redirectUri).pathname, state, sessionId, login.formPostBinding!);
  log(request.stepUp ? 'step-up login started for %s' : 'login started for %s', provider.name);
  const location = await buildAuthorizationRedirect(
    {
      authorizationUrl: endpoints.authorizationUrl,
      clientId: provider.clientId,
      redirectUri: provider.redirectUri,
      scope: request.scope,
      state,
      codeVerifier,
      nonce,
      // `form_post`, or JARM (`'jwt'`), asks for the JWT-secured response; the package owns this parameter.
      params: provider.responseMode === 'query' ? request.params : { ...request.params, response_mode: provider.responseMode },
      resources: provider.resources,
    },
    par,
  );
  return { location, pushed: par !== undefined };
}

/**
 * The login starter of one provider (see `LoginStarter`). Parameters of `redirect`, the later
 * winning: `/login` query (allow-listed, only names the config leaves unset) < configured
 * `authorizationParams` < per-login ones from code. Per-login scopes add to the configured ones.
 */
export function createLoginStarter(link: ProviderLink, logins: LoginStore, postLoginRedirect: string, diagnostics?: LoginDiagnostics): LoginStarter {
  const { name, scope, authorizationParams, incrementalAuthorizationParams, loginPath } = link.provider;
  const provider = link.provider;
  return Object.freeze({
    provider: Object.freeze({ name, scope, authorizationParams, incrementalAuthorizationParams, loginPath }),
    postLoginRedirect,
    authorizationUrl: (req: IncomingMessage, res: ServerResponse, request: AuthorizationRequest) => pendingLoginUrl(link, logins, req as Request, res, request, diagnostics),
    async redirect(req: IncomingMessage, res: ServerResponse, from: { query?: URLSearchParams; request?: LoginRequest }): Promise<void> {
      noStore(res);
      const { query, request } = from;
      const returnTo = safeReturnTo(request?.returnTo ?? (query && singleParam(query, 'returnTo')), postLoginRedirect);
      const scopes = request?.scope.length ? [...new Set([...provider.scope, ...request.scope])] : provider.scope;
      const configured = loginAuthorizationParams(provider.authorizationParams, query ?? new URLSearchParams());
      const params = { ...configured.params, ...request?.authorizationParams };
      const maxAge = params.max_age !== undefined && MAX_AGE.test(params.max_age) ? Number(params.max_age) : undefined;
      redirect(res, 302, await pendingLoginUrl(link, logins, req as Request, res, { returnTo, scope: scopes, params, maxAge }, diagnostics));
    },
  });
}
