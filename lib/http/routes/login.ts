import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ProviderLink } from '../../client/provider-link.js';
import type { LoginStore } from '../../session/login-store.js';
import { startLogin } from '../start-login.js';
import { rawQuery } from './safe-redirect.js';

export { PASS_THROUGH_PARAMS } from '../../protocol/authorize-url.js';

/** GET login: a new transaction (state, PKCE verifier, nonce) saved in the session, then 302 to the AS (start-login.ts). */
export function createLoginHandler(link: ProviderLink, logins: LoginStore, postLoginRedirect: string): RequestHandler {
  return function oauthLogin(req: Request, res: Response, next: NextFunction) {
    startLogin(req, res, link, logins, postLoginRedirect, { query: rawQuery(req.url) }).catch(next);
  };
}
