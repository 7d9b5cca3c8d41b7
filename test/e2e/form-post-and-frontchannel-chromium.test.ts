// responseMode: 'form_post' and front-channel logout in a real browser: the app on
// http://localhost (Chromium keeps Secure cookies there) and the provider on http://127.0.0.1
// (another site), so the provider's auto-submitting form is a genuine cross-site POST, and its
// logout page frames the app cross-site. The server records which cookies that POST carried: the
// SameSite=None binding cookie, never the SameSite=Lax session cookie.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { CHROMIUM_ARGS, requireChromiumOrSkip } from '../support/chromium';
import express from 'express';
import session from 'express-session';
import { oauthErrorHandler, oauthMiddleware } from 'express-oauth2-session';
import { providerOptions } from '../support/test-app';

const executablePath = requireChromiumOrSkip();
const describeBrowser = executablePath ? describe : describe.skip;

describeBrowser('form_post and front-channel logout in Chromium', () => {
  let server: http.Server;
  let appUrl: string;
  let as: TestAuthorizationServer;
  const dirs: string[] = [];
  /** Cookie names of each POST to /callback, in order. */
  const posted: string[][] = [];
  /** The front-channel logout frames the app received. */
  const frames: Array<{ cookies: string; dest: string }> = [];

  beforeAll(async () => {
    server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    appUrl = `http://localhost:${(server.address() as { port: number }).port}`;
    const client = {
      client_id: 'rp-fcl',
      client_secret: 'rp-fcl-secret',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [`${appUrl}/callback`],
      frontchannel_logout_uri: `${appUrl}/frontchannel-logout`,
      frontchannel_logout_session_required: true,
    };
    as = await startAuthorizationServer({ redirectUris: [`${appUrl}/callback`], accessTokenTTL: 300, extraClients: [client] });
    // The session cookie as most apps set it: SameSite=Lax, explicitly (a cookie without the
    // attribute would get Chromium's two-minute "Lax+POST" allowance and ride along).
    const app = express();
    app.use(session({ secret: 'e2e', resave: false, saveUninitialized: false, cookie: { sameSite: 'lax', httpOnly: true } }));
    const oauth = { ...providerOptions(as, { clientId: 'rp-fcl', redirectUri: `${appUrl}/callback`, responseMode: 'form_post' }), frontchannelLogout: true };
    app.use(oauthMiddleware(oauth));
    app.get('/session', (req, res) => void res.json({ authenticated: req.oauth.isAuthenticated(), user: req.oauth.user ?? null }));
    app.use(oauthErrorHandler());
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (req.url?.startsWith('/frontchannel-logout')) frames.push({ cookies: req.headers.cookie ?? '', dest: String(req.headers['sec-fetch-dest']) });
      if (req.method === 'POST' && req.url?.startsWith('/callback')) {
        posted.push(
          (req.headers.cookie ?? '')
            .split(';')
            .map((c) => c.trim().split('=')[0] as string)
            .filter(Boolean),
        );
      }
      app(req, res);
    });
  }, 60_000);

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await as?.stop();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function browser(): Promise<BrowserContext> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eos-chromium-'));
    dirs.push(dir);
    return chromium.launchPersistentContext(dir, { executablePath: executablePath as string, headless: true, args: CHROMIUM_ARGS });
  }

  async function signIn(page: Page, user: string): Promise<void> {
    await page.fill('input[name="login"]', user);
    await page.fill('input[name="password"]', 'any-password');
    await page.click('button[type="submit"]');
    const consent = page.locator('input[name="prompt"][value="consent"]');
    await Promise.race([consent.waitFor({ state: 'attached' }), page.waitForURL((url) => url.href.startsWith(appUrl))]);
    if (!page.url().startsWith(appUrl)) await page.click('button[type="submit"]');
  }

  it('should complete the login from the provider’s cross-site POST, which carries the binding cookie and not the session cookie', async () => {
    const context = await browser();
    try {
      const page = await context.newPage();
      await page.goto(`${appUrl}/login?returnTo=%2Fsession`);
      expect(page.url().startsWith(as.issuer)).toBe(true);
      const before = await context.cookies();
      const binding = before.find((c) => c.name.startsWith('oauth.fp.'));
      expect(binding).toMatchObject({ path: '/callback', httpOnly: true, secure: true, sameSite: 'None' });
      expect(before.find((c) => c.name === 'connect.sid')).toMatchObject({ sameSite: 'Lax' });
      await signIn(page, 'alice');
      await page.waitForURL(`${appUrl}/session`);
      expect(JSON.parse((await page.textContent('body')) ?? '{}')).toMatchObject({ authenticated: true, user: { sub: 'alice' } });
      expect(posted).toEqual([[binding!.name]]);
      const after = await context.cookies();
      expect(after.filter((c) => c.name.startsWith('oauth.fp.'))).toEqual([]);
      expect((await as.tokenRequests('authorization_code')).map((r) => r.status)).toEqual([200]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('should end the login when the provider’s logout page frames the front-channel logout URI', async () => {
    const context = await browser();
    try {
      const page = await context.newPage();
      await page.goto(`${appUrl}/login?returnTo=%2Fsession`);
      await signIn(page, 'bob');
      await page.waitForURL(`${appUrl}/session`);
      expect(JSON.parse((await page.textContent('body')) ?? '{}')).toMatchObject({ authenticated: true, user: { sub: 'bob' } });
      frames.length = 0;
      await page.goto(`${as.endpoints.endSession}?client_id=rp-fcl`);
      await page.click('button[name="logout"]'); // the AS's own: "Yes, sign me out"
      await page.waitForURL(`${as.issuer}/session/end/success`);
      // The frame is a third-party request: the app's SameSite=Lax session cookie stays behind.
      expect(frames).toEqual([{ cookies: '', dest: 'iframe' }]);
      await page.goto(`${appUrl}/session`);
      expect(JSON.parse((await page.textContent('body')) ?? '{}')).toEqual({ authenticated: false, user: null });
    } finally {
      await context.close();
    }
  }, 60_000);
});
