// oauthErrorHandler's answer to an ApiChallengeError: the login that would satisfy the API
// (incremental: more scope; step-up: acr_values / max_age), started for a page load and returning
// to the same page, unless the current login already asked for exactly that (asking again would
// loop); otherwise a 403 carrying the challenge. Written on IncomingMessage/ServerResponse.
import type { Request, Response } from 'express';
import { LOGIN_MARKER, LOGIN_STARTER, type ProviderClient } from '../client/provider-client.js';
import { challengeBody, type ApiChallengeError } from '../errors.js';
import { debugFor } from '../debug.js';
import { noStore, originalUrl, redirect, sendHtml, sendJson, wantsHtml } from './respond.js';
import { safeReturnTo } from './routes/safe-redirect.js';
import { assessLogin, grantedScope, type StepUpRules } from './step-up.js';

const log = debugFor('login');

/** The login that would answer the challenge, or undefined when none would (nothing asked, already asked, or not a page load). */
async function challengeLoginUrl(err: ApiChallengeError, req: Request, res: Response, client: ProviderClient): Promise<string | undefined> {
  if (req.method !== 'GET' || !wantsHtml(req) || client.loginPath === false) return undefined;
  const { challenge } = err;
  const rules: StepUpRules = {};
  if (challenge.scope) rules.scopes = challenge.scope;
  if (challenge.acrValues) rules.acrValues = challenge.acrValues;
  if (challenge.maxAge !== undefined) rules.maxAge = challenge.maxAge;
  if (!rules.scopes && !rules.acrValues && rules.maxAge === undefined) return undefined;
  const marker = client[LOGIN_MARKER]();
  if (!marker) return undefined;
  const starter = client[LOGIN_STARTER]();
  // A scope the token was granted (or the login asked for) is not asked again: the API's refusal is then final.
  // A configured API's own token (RFC 8707 / 8693) has its own granted scope.
  const token = rules.scopes ? await (err.api !== undefined ? client.api(err.api).getToken() : client.getToken()) : undefined;
  const granted = rules.scopes ? grantedScope(token?.scope, marker, starter.provider.scope) : undefined;
  const shortfall = assessLogin(rules, marker, granted, starter.provider, Date.now());
  if (!shortfall || shortfall.exhausted) {
    log('%s: the login already asked for what the API wants; not asking again', err.code);
    return undefined;
  }
  const returnTo = safeReturnTo(originalUrl(req), starter.postLoginRedirect);
  return starter.authorizationUrl(req, res, { returnTo, ...shortfall.login });
}

/** Answer an API's challenge: 302 to the provider for a new login (HTML GET), else 403 with the challenge. */
export async function respondToApiChallenge(err: ApiChallengeError, req: Request, res: Response, client: ProviderClient | undefined, page: () => string): Promise<void> {
  const location = client ? await challengeLoginUrl(err, req, res, client) : undefined;
  noStore(res);
  if (location) {
    redirect(res, 302, location);
    return;
  }
  if (wantsHtml(req)) {
    sendHtml(res, 403, page());
    return;
  }
  sendJson(res, 403, { error: err.name, code: err.code, message: err.message, challenge: challengeBody(err.challenge) });
}
