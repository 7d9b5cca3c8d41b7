import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ProviderClient } from '../client/provider-client.js';
import { DEFAULT_PROVIDER_NAME } from '../config/resolve.js';
import { OAUTH_CODES, OAuthError } from '../errors.js';
import { requireSession } from '../session/session-data.js';
import { noStore, originalUrl, redirect, sendJson, wantsHtml } from './respond.js';
import { enforceAccessRules, resolveAccessRules, type ClaimsRequirement } from './access-rules.js';

/** `requireAuth({ provider })` names no configured provider: a programming error (500), with the fix. */
function unknownProvider(name: string, err: unknown): OAuthError {
  const known = err instanceof RangeError ? (/\(configured: (.*)\)\.$/.exec(err.message)?.[1] ?? '') : '';
  // One provider given at the top level (no `providers` option) is named "default".
  const fix =
    known === `"${DEFAULT_PROVIDER_NAME}"`
      ? `Its one provider is the one given without the \`providers\` option, named "${DEFAULT_PROVIDER_NAME}": leave \`provider\` out, or configure several with \`providers\`.`
      : 'Use a key of its `providers` option.';
  return new OAuthError(OAUTH_CODES.UNKNOWN_PROVIDER, `requireAuth({ provider: "${name}" }): oauthMiddleware has no provider of that name${known ? ` (configured: ${known})` : ''}. ${fix}`, {
    status: 500,
  });
}

/** HTML GET → 302 to the login route with returnTo; anything else → 401 JSON. */
export function respondLoginRequired(req: Request, res: Response, loginPath: string | false, code: string = OAUTH_CODES.NOT_AUTHENTICATED): void {
  noStore(res);
  if (loginPath && wantsHtml(req)) {
    redirect(res, 302, `${loginPath}?returnTo=${encodeURIComponent(originalUrl(req))}`);
    return;
  }
  sendJson(res, 401, { error: 'unauthorized', code });
}

export interface RequireAuthOptions {
  /** With several providers: which one must be logged in (default: the first). */
  provider?: string;
  /** Scopes the access token must have been granted; missing ones are asked for by a new login (HTML GET) or answered 403 `insufficient_scope`. */
  scopes?: string[];
  /** The ID token's `acr` must be one of these; else a new login with `acr_values` and `prompt=login` (HTML GET) or 401 `insufficient_user_authentication`. */
  acrValues?: string[];
  /** The ID token's `auth_time` must be at most this many seconds ago; else a new login with `max_age` (HTML GET) or 401. */
  maxAge?: number;
  /** Claim values `req.oauth.user` must have, or a predicate over it; else 403. */
  claims?: ClaimsRequirement;
}

/**
 * Gate a route: logged in → next(); else redirect to login (HTML GET) or 401 JSON. With rules
 * (`scopes`, `acrValues`, `maxAge`, `claims`), a logged-in request must also satisfy them (see
 * docs/using-req-oauth.md, "Step-up and incremental authorization" and "Claim checks"). Rules are validated here.
 */
export function requireAuth(options: RequireAuthOptions = {}): RequestHandler {
  const rules = resolveAccessRules(options as unknown as Record<string, unknown>);
  return function requireOAuth(req: Request, res: Response, next: NextFunction) {
    if (!req.oauth) {
      next(new OAuthError(OAUTH_CODES.MIDDLEWARE_MISSING, 'req.oauth is missing: mount oauthMiddleware() before requireAuth().', { status: 500 }));
      return;
    }
    try {
      requireSession(req);
    } catch (err) {
      next(err);
      return;
    }
    let client: ProviderClient;
    try {
      client = options.provider ? req.oauth.provider(options.provider) : req.oauth;
    } catch (err) {
      next(unknownProvider(options.provider as string, err));
      return;
    }
    if (client.isAuthenticated()) {
      if (!rules) return next();
      enforceAccessRules(rules, req, res, client).then((passed) => {
        if (passed) next();
      }, next);
      return;
    }
    respondLoginRequired(req, res, client.loginPath);
  };
}
