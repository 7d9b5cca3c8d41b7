import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ResolvedProvider } from '../../config/options.js';
import { debugFor } from '../../debug.js';
import { buildAuthorizationUrl } from '../../protocol/authorize-url.js';
import { randomCodeVerifier, randomState } from '../../protocol/pkce.js';
import type { Runtime } from '../runtime.js';
import { addTransaction, requireSession, saveSession } from '../../session/session-data.js';
import { rawQuery, safeReturnTo, singleParam } from './safe-redirect.js';

const log = debugFor('login');

/** Authorization parameters a login link may pass through (`/login?prompt=login`). */
export const PASS_THROUGH_PARAMS = ['prompt', 'login_hint', 'ui_locales', 'max_age', 'acr_values'] as const;

export function createLoginHandler(runtime: Runtime, provider: ResolvedProvider): RequestHandler {
  async function run(req: Request, res: Response): Promise<void> {
    res.set('Cache-Control', 'no-store');
    const session = requireSession(req);
    const endpoints = await runtime.endpoints(provider);
    const query = rawQuery(req.url);
    const returnTo = safeReturnTo(singleParam(query, 'returnTo'), runtime.config.postLoginRedirect);
    const state = randomState();
    const codeVerifier = provider.pkce ? randomCodeVerifier() : undefined;
    const nonce = provider.scope.includes('openid') ? randomState() : undefined;
    const params: Record<string, string> = { ...provider.authorizationParams };
    for (const name of PASS_THROUGH_PARAMS) {
      const value = singleParam(query, name);
      if (value !== undefined && value.length <= 256) params[name] = value;
    }
    const now = Date.now();
    addTransaction(session, state, { p: provider.name, v: codeVerifier, n: nonce, r: returnTo, t: now }, now);
    await saveSession(session);
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
