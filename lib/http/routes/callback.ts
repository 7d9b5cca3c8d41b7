import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ProviderLink } from '../../client/provider-link.js';
import type { TokenLifecycle } from '../../client/token-lifecycle.js';
import { InvalidCallbackError, OAUTH_CODES, OAuthError } from '../../errors.js';
import { FAPI_JWS_ALGS, JARM_ALGS, readJwtResponse } from '../../protocol/jarm.js';
import { readAuthorizationResponse, readCallbackState } from '../../protocol/authorization-response.js';
import type { LoginStore } from '../../session/login-store.js';
import type { LoginOutcome } from '../../session/transactions.js';
import type { LoginDiagnostics } from '../login-diagnostics.js';
import { noStore, redirect } from '../respond.js';
import { rawQuery } from './safe-redirect.js';
import { ATTR } from '../../telemetry/attributes.js';

const REPLAYED = 'Unknown, expired or already used login state; start the login again.';

export function replayed(): InvalidCallbackError {
  return new InvalidCallbackError(REPLAYED);
}

/** No pending login for this state in this session: the cause when the request shows it (login-diagnostics.ts). */
function noPendingLogin(req: Request, diagnostics: LoginDiagnostics | undefined): InvalidCallbackError {
  const diagnosis = diagnostics?.atCallbackWithoutLogin(req);
  if (!diagnosis) return replayed();
  return new InvalidCallbackError(`No pending login in this session. ${diagnosis.problem} Fix: ${diagnosis.fix}`, undefined, diagnosis);
}

/** What every callback route needs: the provider, the login store and the token lifecycle. */
export interface CallbackContext {
  link: ProviderLink;
  logins: LoginStore;
  lifecycle: TokenLifecycle;
  /**
   * Names the cause of a callback without its pending login (a GET callback: its session cookie is
   * the binding; a form_post callback is bound by its own cookie and has none).
   */
  diagnostics?: LoginDiagnostics;
}

/** The headers of every callback answer: never cached, never a Referer carrying the code onwards. */
export function callbackHeaders(res: Response): void {
  noStore(res);
  res.setHeader('Referrer-Policy', 'no-referrer');
}

/**
 * The authorization response's parameters: the query, or with `responseMode: 'jwt'` (JARM) the
 * claims of the signed response in it, verified first (a forged one never claims the transaction).
 */
async function responseParams(link: ProviderLink, query: URLSearchParams): Promise<URLSearchParams> {
  const { provider } = link;
  if (provider.responseMode !== 'jwt') return query;
  const endpoints = await link.endpoints();
  if (!endpoints.jwksUri || !endpoints.issuer) {
    throw new OAuthError(OAUTH_CODES.DISCOVERY, `${endpoints.issuer ?? link.name} publishes no jwks_uri: JWT-secured responses cannot be verified.`, { status: 502 });
  }
  const algorithms = provider.profile ? FAPI_JWS_ALGS : JARM_ALGS;
  return readJwtResponse(query, { issuer: endpoints.issuer, clientId: provider.clientId, jwksUri: endpoints.jwksUri, keys: link.keys, algorithms });
}

/**
 * The callback after its parameters were read, whichever way they came (a redirect's query, or the
 * provider's form_post). Every failure before the code exchange answers without calling the token
 * endpoint. The transaction is claimed once and atomically (session/transactions.ts); a duplicate
 * of a callback in flight (double click, proxy retry) waits for it and continues in the session it
 * produced.
 */
export async function completeCallback(req: Request, res: Response, params: URLSearchParams, state: string, code: string | undefined, ctx: CallbackContext): Promise<void> {
  const { link, logins, lifecycle } = ctx;
  const { provider } = link;
  const claim = await logins.claim(req, state, link.name, code ?? '');
  if (claim.kind === 'rejected') {
    // A second tab whose login was pending when the first tab's completed: no code redemption,
    // just back to where it was going (or to log in again when this provider is not logged in).
    const abandoned = logins.abandonedLogin(req, state);
    if (abandoned?.provider !== link.name) throw noPendingLogin(req, ctx.diagnostics);
    if (logins.forRequest(req).hasLogin(link.name)) return redirect(res, 303, abandoned.returnTo);
    if (provider.loginPath === false) throw replayed();
    return redirect(res, 302, `${provider.loginPath}?returnTo=${encodeURIComponent(abandoned.returnTo)}`);
  }
  if (claim.kind === 'duplicate') {
    const { sessionId } = await claim.outcome;
    if (sessionId === undefined || !(await logins.adoptSession(req, sessionId))) throw replayed();
    redirect(res, 303, claim.tx.returnTo);
    return;
  }
  const outcome: LoginOutcome = { sessionId: undefined };
  try {
    // Steps 2–6 (the authorization response's checks, then the token lifecycle's login): the new session id.
    const endpoints = await link.endpoints();
    const authorizationCode = readAuthorizationResponse(params, endpoints);
    outcome.sessionId = await lifecycle.completeLogin(req, { link, endpoints, code: authorizationCode, pending: claim.tx });
  } finally {
    claim.settle(outcome);
  }
  redirect(res, 303, claim.tx.returnTo);
}

/** GET callback (RFC 6749 §4.1.2): the authorization response in the query of the provider's redirect. */
export function createCallbackHandler(link: ProviderLink, logins: LoginStore, lifecycle: TokenLifecycle, diagnostics?: LoginDiagnostics): RequestHandler {
  const ctx: CallbackContext = { link, logins, lifecycle, diagnostics };

  async function run(req: Request, res: Response): Promise<void> {
    callbackHeaders(res);
    const params = await responseParams(link, rawQuery(req.url));
    const { state, code } = readCallbackState(params);
    await completeCallback(req, res, params, state, code, ctx);
  }

  const attributes = { [ATTR.provider]: link.name };
  return function oauthCallback(req: Request, res: Response, next: NextFunction) {
    link.telemetry.span('oauth2.callback', attributes, () => run(req, res)).catch(next);
  };
}
