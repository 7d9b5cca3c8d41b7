import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import { oauthErrorHandler, oauthMiddleware, requireAuth, type OAuthMiddlewareOptions, type RefreshLock } from 'express-oauth2-session';
import { decodeJwt } from 'jose';
import { BROWSER_SCRIPT } from './browser-script';
import { callApiPanel, claimsTable, countdown, definitionList, errorPage, escapeHtml, layout, logoutConfirmation, profileCard, refreshCountdown } from './views';

export interface ExampleAppOptions {
  /** oauthMiddleware options (a preset spread with client credentials, or the embedded provider's). */
  oauth: OAuthMiddlewareOptions;
  /** The API call the profile page makes through req.oauth.get (relative to apiBaseUrl, or absolute). */
  profileApiUrl: string;
  /**
   * The provider's UserInfo endpoint, asked (through req.oauth.get: its origin must be allowed)
   * for the name and email when the ID token did not carry them.
   */
  userinfoUrl?: string;
  /** Default MemoryStore. */
  store?: session.Store;
  lock?: RefreshLock;
  sessionSecret: string;
  /** Set the cookie's Secure flag (the app is served over https). */
  secureCookie?: boolean;
}

type UserCard = { sub?: unknown; name?: unknown; email?: unknown };

/** The app's pages: scripts and everything else from this origin only (/assets/app.js), inline styles. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";

/** The body of an API response for display: JSON when it says so, else text. */
async function readBody(res: Response | globalThis.Response): Promise<unknown> {
  const api = res as globalThis.Response;
  return api.headers.get('content-type')?.includes('json') ? api.json() : api.text();
}

/** The example app, without listen(): server.ts starts it, tests import it. */
export function createApp(options: ExampleAppOptions) {
  const app = express();
  const refreshes = new Map<string, number>();
  /** Every claim of each session's latest ID token (req.oauth.user keeps only the claims about the user). */
  const idTokenClaims = new Map<string, Record<string, unknown>>();
  const leewayMs = ((options.oauth as { refreshLeewaySeconds?: number }).refreshLeewaySeconds ?? 60) * 1000;
  app.use(
    session({
      store: options.store,
      secret: options.sessionSecret,
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax', secure: options.secureCookie ?? false, maxAge: 8 * 3600 * 1000 },
    }),
  );
  app.use((_req, res, next) => {
    res.set('Content-Security-Policy', CSP);
    next();
  });
  app.get('/assets/app.js', (_req, res) => void res.type('application/javascript').set('Cache-Control', 'no-cache').send(BROWSER_SCRIPT));
  // Before the middleware: this styled page answers GET /logout instead of the package's plain form.
  app.get('/logout', (_req, res) => void res.set('Cache-Control', 'no-store').send(logoutConfirmation()));
  const oauth = oauthMiddleware({
    ...options.oauth,
    ...(options.lock ? { lock: options.lock } : {}),
    onTokens: ({ sessionId, reason, tokens }) => {
      if (reason === 'refresh') refreshes.set(sessionId, (refreshes.get(sessionId) ?? 0) + 1);
      if (tokens?.idToken) idTokenClaims.set(sessionId, decodeJwt(tokens.idToken)); // verified by the package already
      if (reason === 'logout') {
        refreshes.delete(sessionId);
        idTokenClaims.delete(sessionId);
      }
    },
  });
  app.use(oauth);
  const apiNames = Object.keys((options.oauth as { apis?: Record<string, unknown> }).apis ?? {});

  /** Name and email from the ID token, else from the provider's UserInfo endpoint. */
  async function whoIs(req: Request): Promise<UserCard> {
    const user: UserCard = { ...req.oauth.user };
    if ((user.name && user.email) || !options.userinfoUrl) return user;
    const info = await req.oauth.get(options.userinfoUrl);
    return info.ok ? { ...((await info.json()) as UserCard), ...user } : user;
  }

  app.get('/', async (req, res, next) => {
    try {
      const notice = req.query.signedOut === '1' && !req.oauth.isAuthenticated() ? '<p class="notice" id="signed-out">You are signed out. See you soon!</p>' : '';
      const body = req.oauth.isAuthenticated()
        ? `${profileCard(await whoIs(req))}<p><a class="button" href="/profile">See your profile</a></p>`
        : `${notice}<p>This app logs you in with OAuth 2.0 and calls an API with your access token, which it refreshes by itself.</p><p><a class="button" href="/login?returnTo=%2Fprofile">Log in</a></p>`;
      res.send(layout('express-oauth2-session example', body, req.oauth.isAuthenticated()));
    } catch (err) {
      next(err);
    }
  });

  app.get('/profile', requireAuth(), async (req, res, next) => {
    try {
      const [user, api] = await Promise.all([whoIs(req), req.oauth.get(options.profileApiUrl)]);
      const data = await readBody(api);
      const severalApis = apiNames.length ? `<p><a href="/apis">Call ${apiNames.length} APIs, each with its own token</a></p>` : '';
      const claims = idTokenClaims.get(req.sessionID) ?? { ...req.oauth.user };
      const body = `${profileCard(user)}<h2>Claims of your ID token</h2>${claimsTable(claims)}
        <h2>An API call made with your token</h2><p class="muted">GET ${escapeHtml(options.profileApiUrl)} → HTTP ${api.status}</p>
        <pre id="api-result">${escapeHtml(JSON.stringify(data, null, 2))}</pre>
        ${callApiPanel(`GET ${apiUrl()} with your access token`)}${severalApis}`;
      res.send(layout('Profile', body, true));
    } catch (err) {
      next(err);
    }
  });

  /** The API URL the profile calls, as the package resolves it (relative to apiBaseUrl). */
  function apiUrl(): string {
    const base = (options.oauth as { apiBaseUrl?: string }).apiBaseUrl;
    return base ? new URL(options.profileApiUrl, base).href : options.profileApiUrl;
  }

  // The "Call the API" button: what went out (the token shown only as what it is) and what came back.
  app.post('/call-api', requireAuth(), async (req, res, next) => {
    try {
      const api = await req.oauth.get(options.profileApiUrl);
      res.set('Cache-Control', 'no-store').json({
        request: { method: 'GET', url: apiUrl(), headers: { authorization: 'Bearer <your access token: sent by the server, never to the browser>' } },
        response: { status: api.status, headers: { 'content-type': api.headers.get('content-type') }, body: await readBody(api) },
      });
    } catch (err) {
      next(err);
    }
  });

  // With `apis` configured: /apis calls each API with that API's own audience-restricted token.
  app.get('/apis', requireAuth(), async (req, res, next) => {
    try {
      const calls = await Promise.all(
        apiNames.map(async (name) => {
          const r = await req.oauth.api(name).get('/whoami');
          return [name, `HTTP ${r.status}: ${JSON.stringify(await r.json())}`] as const;
        }),
      );
      const body = apiNames.length
        ? `<p>Each API got its own token, restricted to it (RFC 8707 audience).</p>${definitionList(Object.fromEntries(calls))}`
        : '<p class="muted">No APIs are configured (the <code>apis</code> option).</p>';
      res.set('Cache-Control', 'no-store').send(layout('Several APIs', body, true));
    } catch (err) {
      next(err);
    }
  });

  app.get('/status', requireAuth(), async (req, res, next) => {
    try {
      const token = await req.oauth.getToken();
      const expiresIn = token?.expiresAt === undefined ? 'never' : countdown('expires-in', token.expiresAt - Date.now());
      const body = `<dl><dt>Access token expires in</dt><dd>${expiresIn}</dd></dl>${definitionList({
        'Refreshed (this session)': refreshes.get(req.sessionID) ?? 0,
        'Refresh token': token?.refreshToken ? 'present (kept server-side)' : 'none',
        Scope: token?.scope ?? '',
      })}`;
      const nextRefresh = refreshCountdown(token?.expiresAt === undefined ? undefined : token.expiresAt - leewayMs - Date.now());
      res.set('Cache-Control', 'no-store').send(layout('Token status', `${nextRefresh}${body}<p class="muted">Token values never leave the server.</p>`, true));
    } catch (err) {
      next(err);
    }
  });

  // The package's errors: a small HTML page for browsers, JSON for programs. Anything else: ours.
  app.use(oauthErrorHandler());
  app.use((err: { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof err.status === 'number' && err.status >= 400 ? err.status : 500;
    res.status(status).send(errorPage(status));
  });
  return { app, oauth };
}
