import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { debugFor } from '../../debug.js';
import { OAUTH_CODES, OAuthError } from '../../errors.js';
import type { ProviderLink } from '../../client/provider-link.js';
import type { TokenLifecycle } from '../../client/token-lifecycle.js';
import { buildEndSessionUrl } from '../../protocol/end-session.js';
import type { PostLogoutReturn } from '../post-logout.js';
import type { LoginStore } from '../../session/login-store.js';
import { requireSession } from '../../session/session-data.js';
import { clearCookie, escapeHtml, header, noStore, originalUrl, pathOf, redirect, sendHtml } from '../respond.js';
import { rawQuery, safeReturnTo, singleParam } from './safe-redirect.js';

const log = debugFor('logout');

/**
 * Logout must not be triggerable cross-site. Browsers send `Origin` on every cross-site POST and
 * `Sec-Fetch-Site` on every request; both, when present, must say same-origin. The app's origin
 * comes from the configured redirect URIs, never from Host headers.
 */
function assertSameOrigin(req: Request, appOrigins: ReadonlySet<string>): void {
  const origin = header(req, 'origin');
  const site = header(req, 'sec-fetch-site');
  const crossOrigin = (origin !== undefined && origin !== 'null' && !appOrigins.has(origin)) || origin === 'null';
  const crossSite = site !== undefined && site !== 'same-origin' && site !== 'none';
  if (crossOrigin || crossSite) {
    throw new OAuthError(OAUTH_CODES.LOGOUT_FORBIDDEN, 'Cross-site logout requests are refused.', { status: 403 });
  }
}

export interface LogoutOptions {
  appOrigins: ReadonlySet<string>;
  postLogoutRedirect: string;
  idpLogout: boolean;
  postLogoutRedirectUri: string;
}

/** A provider login this logout ended: where its end-session request would go. */
interface EndedLogin {
  link: ProviderLink;
  idToken: string | undefined;
}

/**
 * POST logout: end every provider's login (revoking its tokens), then the session itself, then
 * 303 to `returnTo` (same-origin) or `postLogoutRedirect`. With `idpLogout`, the browser first
 * goes to the end-session endpoint of the first ended login (config order) that has one, and
 * comes back through `postLogoutRedirectUri` (see post-logout.ts).
 */
export function createLogoutHandler(links: Iterable<ProviderLink>, logins: LoginStore, lifecycle: TokenLifecycle, options: LogoutOptions, postLogout: PostLogoutReturn): RequestHandler {
  const allLinks = [...links];

  async function endSessionUrl(ended: EndedLogin[], res: Response, returnTo: string | undefined): Promise<string | undefined> {
    for (const { link, idToken } of ended) {
      const url = (await link.endpoints().catch(() => undefined))?.endSessionUrl;
      if (!url) continue;
      const state = postLogout.remember(res, returnTo);
      return buildEndSessionUrl({ endSessionUrl: url, clientId: link.provider.clientId, idToken, postLogoutRedirectUri: options.postLogoutRedirectUri, state });
    }
    return undefined;
  }

  async function run(req: Request, res: Response): Promise<void> {
    noStore(res);
    assertSameOrigin(req, options.appOrigins);
    requireSession(req);
    const session = logins.forRequest(req);
    const ended: EndedLogin[] = [];
    for (const link of allLinks) {
      if (!session.hasLogin(link.name)) continue;
      ended.push({ link, idToken: (await lifecycle.endLogin({ session, link }))?.idToken });
    }
    const cookie = await logins.endSession(req);
    // destroy() forgets the session in the store; the browser still holds its cookie.
    if (cookie) clearCookie(res, cookie.name, cookie.options);
    const returnTo = safeReturnTo(singleParam(rawQuery(req.url), 'returnTo'), '') || undefined;
    const provider = options.idpLogout ? await endSessionUrl(ended, res, returnTo) : undefined;
    log(provider ? 'logged out; continuing at the provider' : 'logged out');
    redirect(res, 303, provider ?? returnTo ?? options.postLogoutRedirect);
  }

  return function oauthLogout(req: Request, res: Response, next: NextFunction) {
    run(req, res).catch(next);
  };
}

/**
 * Where the logout form's submission may lead (CSP `form-action`, which browsers also check on the
 * redirects after the POST): this origin, and with `idpLogout` the providers' end-session origins.
 */
async function logoutFormTargets(links: readonly ProviderLink[], idpLogout: boolean): Promise<string[]> {
  const targets = new Set(["'self'"]);
  if (idpLogout) {
    for (const link of links) {
      const url = (await link.endpoints().catch(() => undefined))?.endSessionUrl;
      if (url) targets.add(new URL(url).origin);
    }
  }
  return [...targets];
}

/** GET /logout answers a confirmation form: a link or image cannot log the user out. */
export function logoutConfirmForm(links: Iterable<ProviderLink>, idpLogout: boolean): RequestHandler {
  const allLinks = [...links];
  return function oauthLogoutForm(req: Request, res: Response, next: NextFunction) {
    logoutFormTargets(allLinks, idpLogout)
      .then((formAction) => {
        noStore(res);
        const action = escapeHtml(pathOf(originalUrl(req)));
        sendHtml(
          res,
          200,
          '<!doctype html><meta charset="utf-8"><title>Log out</title>' + `<form method="post" action="${action}"><p>Log out of this site?</p><button type="submit">Log out</button></form>`,
          formAction,
        );
      })
      .catch(next);
  };
}
