import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { LoginStarter } from '../../client/login-request.js';
import { rawQuery } from './safe-redirect.js';

export { PASS_THROUGH_PARAMS } from '../../protocol/authorize-url.js';

/** GET login: a new transaction (state, PKCE verifier, nonce) saved in the session, then 302 to the AS (start-login.ts). */
export function createLoginHandler(starter: LoginStarter): RequestHandler {
  return function oauthLogin(req: Request, res: Response, next: NextFunction) {
    starter.redirect(req, res, { query: rawQuery(req.url) }).catch(next);
  };
}
