import express from 'express';
import session from 'express-session';
import { oauthErrorHandler, oauthMiddleware, requireAuth, type OAuthMiddlewareOptions, type RefreshLock } from 'express-oauth2-session';
import { definitionList, escapeHtml, layout } from './views';

export interface ExampleAppOptions {
  /** oauthMiddleware options (a preset spread with client credentials, or the embedded provider's). */
  oauth: OAuthMiddlewareOptions;
  /** The API call the profile page makes through req.oauth.get (relative to apiBaseUrl, or absolute). */
  profileApiUrl: string;
  /** Default MemoryStore. */
  store?: session.Store;
  lock?: RefreshLock;
  sessionSecret: string;
  /** Set the cookie's Secure flag (the app is served over https). */
  secureCookie?: boolean;
}

/** The example app, without listen(): server.ts starts it, tests import it. */
export function createApp(options: ExampleAppOptions) {
  const app = express();
  const refreshes = new Map<string, number>();
  app.use(
    session({
      store: options.store,
      secret: options.sessionSecret,
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax', secure: options.secureCookie ?? false, maxAge: 8 * 3600 * 1000 },
    }),
  );
  const oauth = oauthMiddleware({
    ...options.oauth,
    ...(options.lock ? { lock: options.lock } : {}),
    onTokens: ({ sessionId, reason }) => {
      if (reason === 'refresh') refreshes.set(sessionId, (refreshes.get(sessionId) ?? 0) + 1);
      if (reason === 'logout') refreshes.delete(sessionId);
    },
  });
  app.use(oauth);

  app.get('/', (req, res) => {
    const body = req.oauth.isAuthenticated()
      ? `<p>You are logged in as <strong>${escapeHtml(req.oauth.user?.sub ?? 'someone')}</strong>.</p><p><a class="button" href="/profile">See your profile</a></p>`
      : '<p>This app logs you in with OAuth 2.0 and calls an API with your access token, which it refreshes by itself.</p><p><a class="button" href="/login?returnTo=%2Fprofile">Log in</a></p>';
    res.send(layout('express-oauth2-session example', body, req.oauth.isAuthenticated()));
  });

  app.get('/profile', requireAuth(), async (req, res, next) => {
    try {
      const api = await req.oauth.get(options.profileApiUrl);
      const data: unknown = api.headers.get('content-type')?.includes('json') ? await api.json() : await api.text();
      const body = `<h2>Who you are</h2>${definitionList({ ...req.oauth.user })}
        <h2>An API call made with your token</h2><p class="muted">GET ${escapeHtml(options.profileApiUrl)} → HTTP ${api.status}</p>
        <pre id="api-result">${escapeHtml(JSON.stringify(data, null, 2))}</pre>`;
      res.send(layout('Profile', body, true));
    } catch (err) {
      next(err);
    }
  });

  app.get('/status', requireAuth(), async (req, res, next) => {
    try {
      const token = await req.oauth.getToken();
      const expiresIn = token?.expiresAt === undefined ? 'never' : `${Math.max(0, Math.round((token.expiresAt - Date.now()) / 1000))} s`;
      const body = definitionList({
        'Access token expires in': expiresIn,
        'Refreshed (this session)': refreshes.get(req.sessionID) ?? 0,
        'Refresh token': token?.refreshToken ? 'present (kept server-side)' : 'none',
        Scope: token?.scope ?? '',
      });
      res.send(layout('Token status', `${body}<p class="muted">Token values never leave the server.</p>`, true));
    } catch (err) {
      next(err);
    }
  });

  app.use(oauthErrorHandler());
  return { app, oauth };
}
