import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ProviderLink } from '../../client/provider-link.js';
import type { TokenLifecycle } from '../../client/token-lifecycle.js';
import { debugFor } from '../../debug.js';
import { InvalidCallbackError } from '../../errors.js';
import { readCallbackState } from '../../protocol/authorization-response.js';
import type { LoginStore } from '../../session/login-store.js';
import type { PendingLogin } from '../../session/session-format.js';
import { clearBindingCookie, readBindingCookie, sameBinding } from '../form-post-binding.js';
import { FormBodyError, readFormBody } from '../read-form.js';
import { callbackHeaders, completeCallback, replayed, type CallbackContext } from './callback.js';

const log = debugFor('login');

/** Largest form_post body read: `code`, `state`, `iss` and perhaps `session_state` or an error take well under 1 KiB. */
export const MAX_FORM_POST_BYTES = 16 * 1024;

/**
 * POST callback of `responseMode: 'form_post'` (OAuth 2.0 Form Post Response Mode §2): the
 * authorization response in an `application/x-www-form-urlencoded` body (read here, capped at
 * {@link MAX_FORM_POST_BYTES}, no body parser needed), bound to the browser that started the login
 * by its binding cookie (http/form-post-binding.ts). Without a valid binding the callback is refused
 * (400) before the transaction is claimed or the token endpoint called; with it, the session that
 * holds the transaction is loaded (the cross-site POST carries no SameSite=Lax session cookie) and
 * the callback continues exactly as the GET one does. The binding cookie is removed in every case.
 */
export function createFormPostCallbackHandler(link: ProviderLink, logins: LoginStore, lifecycle: TokenLifecycle, timeoutMs: number): RequestHandler {
  const ctx: CallbackContext = { link, logins, lifecycle };
  const cookiePath = new URL(link.provider.redirectUri).pathname;

  async function run(req: Request, res: Response): Promise<void> {
    callbackHeaders(res);
    let params: URLSearchParams;
    try {
      params = await readFormBody(req, { maxBytes: MAX_FORM_POST_BYTES, timeoutMs });
    } catch (err) {
      if (!(err instanceof FormBodyError)) throw err;
      if (err.status === 413) res.setHeader('Connection', 'close');
      throw new InvalidCallbackError(`The form_post callback could not be read: ${err.message}.`);
    }
    const { state, code } = readCallbackState(params);
    clearBindingCookie(res, cookiePath, state);
    const bound = readBindingCookie(req, state);
    if (!bound) {
      log('form_post callback for %s without its binding cookie', link.name);
      throw new InvalidCallbackError(
        'The login is not bound to this browser (its form_post cookie is missing: it needs https, and a browser that keeps SameSite=None cookies); start the login again.',
      );
    }
    const accept = (pending: PendingLogin) => pending.provider === link.name && sameBinding(pending.formPostBinding, bound.binding);
    // No such session or transaction (expired, used, another provider's), or a forged binding.
    if (!(await logins.boundLogin(req, state, bound.sessionId, accept))) throw replayed();
    await completeCallback(req, res, params, state, code, ctx);
  }

  return function oauthFormPostCallback(req: Request, res: Response, next: NextFunction) {
    run(req, res).catch(next);
  };
}

/** GET on a form_post callback: the provider answered with a redirect, not the POST this client asked for. */
export function formPostOnlyCallback(): RequestHandler {
  return function oauthFormPostOnly(_req: Request, res: Response, next: NextFunction) {
    callbackHeaders(res);
    next(new InvalidCallbackError('This callback expects the provider to POST the authorization response (responseMode "form_post"); it came as a redirect.'));
  };
}
