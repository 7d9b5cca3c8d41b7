import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import { ProviderClient, REFRESH_FAILURE_POLICY } from '../client/provider-client.js';
import { RequestContext } from '../client/request-context.js';
import { ApiChallengeError, OAUTH_CODES, isOAuthError, type OAuthError } from '../errors.js';
import { respondToApiChallenge } from './api-challenge-login.js';
import { escapeHtml, noStore, sendHtml, sendJson, wantsHtml } from './respond.js';
import { respondLoginRequired } from './require-auth.js';

const GENERIC = 'The sign-in service failed; try again.';

/** A small page for people, not programs: what happened and a way back; the text is escaped. */
function errorPage(err: OAuthError, loginPath: string | false): string {
  const message = escapeHtml(err.expose ? err.message : GENERIC);
  const again = loginPath ? `<a href="${escapeHtml(loginPath)}">Try signing in again</a> · ` : '';
  return (
    '<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Sign-in problem</title>' +
    `<main style="font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem"><h1>Sign-in problem</h1><p>${message}</p>` +
    `<p>${again}<a href="/">Home</a></p><p style="color:#666;font-size:.85em">${escapeHtml(err.code)} (HTTP ${err.status})</p></main>`
  );
}

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
 * JSON carrying the challenge otherwise; other OAuth errors become a short HTML page for browser page loads and
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
      respondToApiChallenge(err, req, res, challenged, () => errorPage(err, challenged?.loginPath ?? false)).catch(next);
      return;
    }
    noStore(res);
    if (wantsHtml(req)) {
      sendHtml(res, err.status, errorPage(err, client?.loginPath ?? false));
      return;
    }
    sendJson(res, err.status, { error: err.name, code: err.code, message: err.expose ? err.message : GENERIC });
  };
}
