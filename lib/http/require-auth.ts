import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { OAUTH_CODES, OAuthError } from '../errors.js';
import { requireSession } from '../session/session-data.js';
import { noStore, originalUrl, redirect, sendJson, wantsHtml } from './respond.js';

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
}

/** Gate a route: logged in → next(); else redirect to login (HTML GET) or 401 JSON. */
export function requireAuth(options: RequireAuthOptions = {}): RequestHandler {
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
    const client = options.provider ? req.oauth.provider(options.provider) : req.oauth;
    if (client.isAuthenticated()) {
      next();
      return;
    }
    respondLoginRequired(req, res, client.loginPath);
  };
}
