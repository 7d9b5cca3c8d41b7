import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { debugFor } from '../../debug.js';
import { OAUTH_CODES, OAuthError } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import { RequestSessionView } from '../../session/session-view.js';
import { destroySession, requireSession } from '../../session/session-data.js';
import { rawQuery, safeReturnTo, singleParam } from './safe-redirect.js';

const log = debugFor('logout');

/**
 * Logout must not be triggerable cross-site. Browsers send `Origin` on every cross-site POST and
 * `Sec-Fetch-Site` on every request; both, when present, must say same-origin. The app's origin
 * comes from the configured redirect URIs, never from Host headers.
 */
function assertSameOrigin(req: Request, appOrigins: ReadonlySet<string>): void {
  const origin = req.get('origin');
  const site = req.get('sec-fetch-site');
  const crossOrigin = (origin !== undefined && origin !== 'null' && !appOrigins.has(origin)) || origin === 'null';
  const crossSite = site !== undefined && site !== 'same-origin' && site !== 'none';
  if (crossOrigin || crossSite) {
    throw new OAuthError(OAUTH_CODES.LOGOUT_FORBIDDEN, 'Cross-site logout requests are refused.', { status: 403 });
  }
}

/**
 * express-session does not tell which cookie carries the session id: find the request cookie whose
 * signed value (`s:<sid>.<signature>`) holds this session's id.
 */
function sessionCookieName(req: Request): string | undefined {
  const prefix = `s:${req.sessionID}.`;
  for (const pair of (req.headers.cookie ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    let value = pair.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      continue;
    }
    if (value.startsWith(prefix)) return pair.slice(0, eq).trim();
  }
  return undefined;
}

export function createLogoutHandler(runtime: Runtime): RequestHandler {
  const { config } = runtime;

  async function run(req: Request, res: Response): Promise<void> {
    res.set('Cache-Control', 'no-store');
    assertSameOrigin(req, config.appOrigins);
    requireSession(req);
    const view = new RequestSessionView(req);
    let endSession: URL | undefined;
    for (const provider of config.providers.values()) {
      if (!view.marker(provider.name)) continue;
      const idToken = await runtime.logoutProvider(view, provider);
      const endpoints = await runtime.endpoints(provider).catch(() => undefined);
      if (!endSession && endpoints?.endSessionUrl) {
        endSession = new URL(endpoints.endSessionUrl);
        if (idToken) endSession.searchParams.set('id_token_hint', idToken);
        endSession.searchParams.set('client_id', provider.clientId);
      }
    }
    const cookieName = sessionCookieName(req);
    const { path, domain, secure, sameSite, httpOnly } = req.session.cookie;
    await destroySession(req);
    // destroy() forgets the session in the store; the browser still holds its cookie.
    if (cookieName) res.clearCookie(cookieName, { path, domain, secure: secure === true, httpOnly, sameSite: sameSite as never });
    const returnTo = safeReturnTo(singleParam(rawQuery(req.url), 'returnTo'), '');
    log('logged out');
    res.redirect(303, returnTo || endSession?.toString() || config.postLogoutRedirect);
  }

  return function oauthLogout(req: Request, res: Response, next: NextFunction) {
    run(req, res).catch(next);
  };
}

/** GET /logout answers a confirmation form: a link or image cannot log the user out. */
export function logoutConfirmForm(req: Request, res: Response): void {
  res.set('Cache-Control', 'no-store');
  res.type('html').send(
    '<!doctype html><meta charset="utf-8"><title>Log out</title>' +
      `<form method="post" action="${req.baseUrl}${req.path}"><p>Log out of this site?</p><button type="submit">Log out</button></form>`,
  );
}
