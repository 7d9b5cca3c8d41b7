import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ProviderLink } from '../../client/provider-link.js';
import { debugFor } from '../../debug.js';
import { buildAuthorizationUrl, loginAuthorizationParams } from '../../protocol/authorize-url.js';
import { randomCodeVerifier, randomState } from '../../protocol/pkce.js';
import type { LoginStore } from '../../session/login-store.js';
import { rawQuery, safeReturnTo, singleParam } from './safe-redirect.js';

const log = debugFor('login');

/** GET login: a new transaction (state, PKCE verifier, nonce) saved in the session, then 302 to the AS. */
export function createLoginHandler(link: ProviderLink, logins: LoginStore, postLoginRedirect: string): RequestHandler {
  const { provider } = link;
  async function run(req: Request, res: Response): Promise<void> {
    res.set('Cache-Control', 'no-store');
    const endpoints = await link.endpoints();
    const query = rawQuery(req.url);
    const returnTo = safeReturnTo(singleParam(query, 'returnTo'), postLoginRedirect);
    const state = randomState();
    const codeVerifier = provider.pkce ? randomCodeVerifier() : undefined;
    const nonce = provider.scope.includes('openid') ? randomState() : undefined;
    const { params, maxAge } = loginAuthorizationParams(provider.authorizationParams, query);
    const now = Date.now();
    await logins.begin(req, state, { p: provider.name, v: codeVerifier, n: nonce, r: returnTo, t: now, m: maxAge });
    log('login started for %s', provider.name);
    res.redirect(302, buildAuthorizationUrl({
      authorizationUrl: endpoints.authorizationUrl,
      clientId: provider.clientId,
      redirectUri: provider.redirectUri,
      scope: provider.scope,
      state,
      codeVerifier,
      nonce,
      params,
    }));
  }
  return function oauthLogin(req: Request, res: Response, next: NextFunction) {
    run(req, res).catch(next);
  };
}
