import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import { ProviderClient, REFRESH_FAILURE_POLICY } from '../client/provider-client.js';
import { RequestContext } from '../client/request-context.js';
import { ApiChallengeError, OAUTH_CODES, isOAuthError } from '../errors.js';
import { respondToApiChallenge } from './api-challenge-login.js';
import { errorPage, isDevelopment, publicMessage } from './error-page.js';
import { noStore, sendHtml, sendJson, wantsHtml } from './respond.js';
import { respondLoginRequired } from './require-auth.js';

/** The client of the provider whose login answers an API's challenge. */
function challengedClient(client: ProviderClient | undefined, provider: string): ProviderClient | undefined {
  if (!client || client.providerName === provider) return client;
  return client instanceof RequestContext ? client.provider(provider) : undefined;
}

/**
 * Optional error handler for the package's errors: with `onRefreshFailure: 'relogin'` (default), a
 * login that ended (refresh rejected, tokens gone) becomes a redirect to login (HTML GET) or a
 * 401 JSON; an API's challenge (`ApiChallengeError`) becomes an incremental or step-up login
 * for an HTML GET, back to the same page, unless that login was just made (then 403), and a 403
 * JSON carrying the challenge otherwise; other OAuth errors become a short HTML page for browser page loads
 * (its title and next step by family: sign in again, access denied, misconfigured, try later; in
 * development a part for the developer with the cause and fix) and
 * `{ error, code, message }` JSON otherwise, with their status. Errors that are not ours, and
 * everything when `onRefreshFailure: 'error'`, pass to `next(err)`.
 */
export function oauthErrorHandler(): ErrorRequestHandler {
  return function oauthErrors(err: unknown, req: Request, res: Response, next: NextFunction) {
    if (!isOAuthError(err) || res.headersSent) {
      next(err);
      return;
    }
    const client = req.oauth instanceof ProviderClient ? req.oauth : undefined;
    const loginEnded = err.code === OAUTH_CODES.NOT_AUTHENTICATED || err.code === OAUTH_CODES.REAUTHENTICATION_REQUIRED;
    if (loginEnded) {
      if (client?.[REFRESH_FAILURE_POLICY] === 'error') {
        next(err);
        return;
      }
      respondLoginRequired(req, res, client?.loginPath ?? false, err.code);
      return;
    }
    if (err instanceof ApiChallengeError) {
      const challenged = challengedClient(client, err.provider);
      respondToApiChallenge(err, req, res, challenged, () => errorPage(err, { loginPath: challenged?.loginPath ?? false, development: isDevelopment(req) })).catch(next);
      return;
    }
    noStore(res);
    if (wantsHtml(req)) {
      sendHtml(res, err.status, errorPage(err, { loginPath: client?.loginPath ?? false, development: isDevelopment(req) }));
      return;
    }
    sendJson(res, err.status, { error: err.name, code: err.code, message: publicMessage(err) });
  };
}
