import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ProviderLink } from '../../client/provider-link.js';
import type { LoginStore } from '../../session/login-store.js';
import { beginLogin } from '../start-login.js';
import { noStore, redirect } from '../respond.js';
import { rawQuery, safeReturnTo, singleParam } from './safe-redirect.js';

/** Authorization parameters a login link may pass through (`/login?prompt=login`). */
export const PASS_THROUGH_PARAMS = ['prompt', 'login_hint', 'ui_locales', 'max_age', 'acr_values'] as const;

/** GET login: a new transaction (state, PKCE verifier, nonce) saved in the session, then 302 to the AS. */
export function createLoginHandler(link: ProviderLink, logins: LoginStore, postLoginRedirect: string): RequestHandler {
  const { provider } = link;
  async function run(req: Request, res: Response): Promise<void> {
    noStore(res);
    const query = rawQuery(req.url);
    const returnTo = safeReturnTo(singleParam(query, 'returnTo'), postLoginRedirect);
    const params: Record<string, string> = { ...provider.authorizationParams };
    for (const name of PASS_THROUGH_PARAMS) {
      const value = singleParam(query, name);
      if (value !== undefined && value.length <= 256) params[name] = value;
    }
    redirect(res, 302, await beginLogin(link, logins, req, { returnTo, scope: provider.scope, params }));
  }
  return function oauthLogin(req: Request, res: Response, next: NextFunction) {
    run(req, res).catch(next);
  };
}
