// The example app in a real browser (Debian's chromium through playwright-core): the AS's real
// login and consent pages, the profile (name, email, an API call), refreshes driven by the token
// page's live countdown, the error page, logout through the AS's confirmation page and back, two
// tabs logging in at once, and the session cookie's attributes. Screenshots go to docs/screenshots/
// (the README shows them).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { TestProvider } from 'express-oauth2-session/testing';
import { startAuthorizationServer } from '../support/authorization-server';
import { startExampleApi, type ExampleApi } from '../../example-app/api';
import { createApp } from '../../example-app/app';
import { CHROMIUM_ARGS, requireChromiumOrSkip } from '../support/chromium';

const executablePath = requireChromiumOrSkip();
const describeBrowser = executablePath ? describe : describe.skip;
const SCREENSHOTS = path.join(__dirname, '..', '..', 'docs', 'screenshots');

describeBrowser('example app in Chromium', () => {
  let server: http.Server;
  let appUrl: string;
  let provider: TestProvider;
  let api: ExampleApi;
  const dirs: string[] = [];

  beforeAll(async () => {
    server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    appUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    provider = await startAuthorizationServer({ redirectUris: [`${appUrl}/callback`], accessTokenTTL: 3 });
    api = await startExampleApi({ introspectionUrl: provider.endpoints.introspection, clientId: 'svc', clientSecret: 'svc-secret' });
    const { app } = createApp({
      oauth: { ...provider.providerOptions({ redirectUri: `${appUrl}/callback`, apiBaseUrl: api.url, allowedOrigins: [api.url, provider.issuer], refreshLeewaySeconds: 1 }), idpLogout: true },
      profileApiUrl: '/api/quote',
      userinfoUrl: provider.endpoints.userinfo,
      sessionSecret: 'e2e',
    });
    server.on('request', app);
  }, 60_000);

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await api?.stop();
    await provider?.stop();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function browser(): Promise<BrowserContext> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eos-chromium-'));
    dirs.push(dir);
    return chromium.launchPersistentContext(dir, { executablePath: executablePath as string, headless: true, args: CHROMIUM_ARGS, viewport: { width: 900, height: 720 } });
  }

  /** Fill the AS's login form; confirm consent unless the AS already has it (then it redirects straight back). */
  async function signIn(page: Page, user: string): Promise<void> {
    await page.fill('input[name="login"]', user);
    await page.fill('input[name="password"]', 'any-password');
    await page.click('button[type="submit"]');
    const consent = page.locator('input[name="prompt"][value="consent"]');
    await Promise.race([consent.waitFor({ state: 'attached' }), page.waitForURL((url) => url.href.startsWith(appUrl))]);
    if (!page.url().startsWith(appUrl)) await page.click('button[type="submit"]');
  }

  const refreshedOn = async (page: Page) => Number(/Refreshed \(this session\)\s*(\d+)/.exec((await page.textContent('main')) ?? '')?.[1]);
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

  it('should log in, show name and email, refresh on the countdown, show the error page, and log out at the provider and back', async () => {
    const context = await browser();
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      await page.goto(`${appUrl}/profile`);
      expect(page.url().startsWith(provider.issuer)).toBe(true); // redirected to the AS login page
      await signIn(page, 'alice');
      await page.waitForURL(`${appUrl}/profile`);
      expect([await page.textContent('#name'), await page.textContent('#email')]).toEqual(['Alice Example', 'alice@example.test']);
      expect(await page.textContent('#api-result')).toContain('"for": "alice"');
      // Every claim of the ID token; the "Call the API" button shows what went out and what came back.
      expect((await page.locator('#claims tbody th').allTextContents()).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'nonce', 'sub']);
      await page.click('#call-api');
      await page.waitForFunction(() => document.getElementById('api-call-result')?.textContent?.startsWith('{'));
      const shown = JSON.parse((await page.textContent('#api-call-result')) as string);
      expect([shown.request.method, shown.request.url, shown.response.status, shown.response.body.for]).toEqual(['GET', `${api.url}/api/quote`, 200, 'alice']);
      expect(JSON.stringify(shown)).not.toMatch(/eyJ/); // no token reaches the browser
      await shot(page, 'profile');

      const [cookie] = (await context.cookies(appUrl)).filter((c) => c.name === 'connect.sid');
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });

      // The countdown reaches zero (3 s tokens, 1 s leeway), the page reloads and that request refreshes.
      await page.goto(`${appUrl}/status`);
      // The expiry countdown moves (the page's script, allowed by its CSP: no inline script).
      await page.waitForFunction(() => {
        const el = document.getElementById('expires-in');
        return el !== null && el.textContent !== `${Math.ceil(Number(el.dataset.countdownMs) / 1000)} s`;
      });
      const before = await refreshedOn(page);
      expect(await page.textContent('#refresh-countdown')).toMatch(/^(\d+ s|now)$/);
      await page.waitForFunction((n) => Number(/Refreshed \(this session\)\s*(\d+)/.exec(document.querySelector('main')?.textContent ?? '')?.[1]) > n, before, { timeout: 15_000 });
      await page.goto(`${appUrl}/status`);
      const refreshed = await refreshedOn(page);
      await shot(page, 'token-status');
      await page.goto(`${appUrl}/logout`); // no countdown here: no more reloads
      expect(refreshed).toBeGreaterThanOrEqual(1);
      expect((await provider.tokenRequests('refresh_token')).map((r) => [r.clientId, r.status])).toEqual(Array.from({ length: refreshed }, () => ['rp-basic', 200]));
      await shot(page, 'logout');

      const error = await context.newPage();
      await error.goto(`${appUrl}/callback?state=forged&code=x`);
      expect(await error.textContent('h1')).toBe('Sign-in did not complete');
      expect(await error.getAttribute('section a', 'href')).toBe('https://github.com/express-oauth2-session/express-oauth2-session/blob/main/docs/troubleshooting.md#oauth_invalid_callback');
      await shot(error, 'error');
      await error.close();

      await page.click('main button[type="submit"]'); // the app's styled confirmation
      await page.waitForURL((url) => url.href.startsWith(provider.endpoints.endSession));
      await page.click('button[name="logout"]'); // the AS's own: "Yes, sign me out"
      await page.waitForURL(`${appUrl}/?signedOut=1`);
      expect(await page.textContent('#signed-out')).toBe('You are signed out. See you soon!');
      await shot(page, 'signed-out');
      const after = await context.request.get(`${appUrl}/profile`, { maxRedirects: 0, headers: { accept: 'text/html' } });
      expect(after.status()).toBe(302);
      expect(after.headers().location).toBe('/login?returnTo=%2Fprofile');
    } finally {
      await context.close();
    }
  }, 90_000);

  it('should let two tabs log in at once', async () => {
    const context = await browser();
    try {
      const [one, two] = [await context.newPage(), await context.newPage()];
      await one.goto(`${appUrl}/login?returnTo=%2Fprofile%3Ftab%3D1`);
      await two.goto(`${appUrl}/login?returnTo=%2Fstatus%3Ftab%3D2`);
      await signIn(one, 'bob');
      await one.waitForURL(`${appUrl}/profile?tab=1`);
      await signIn(two, 'bob'); // its login form was shown before tab one finished
      await two.waitForURL(`${appUrl}/status?tab=2`);
      expect(await one.textContent('#api-result')).toContain('"for": "bob"');
      expect(await two.textContent('main')).toContain('Access token expires in');
    } finally {
      await context.close();
    }
  }, 60_000);

  it('should name the cause when the app is opened at localhost while redirectUri says 127.0.0.1 (issue 23)', async () => {
    const context = await browser();
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const localhost = appUrl.replace('127.0.0.1', 'localhost');
      await provider.clearRequests();
      await page.goto(`${localhost}/login?returnTo=%2Fprofile`);
      await signIn(page, 'carol');
      await page.waitForURL((url) => url.href.startsWith(`${appUrl}/callback`)); // the session cookie stayed on localhost
      expect(await page.textContent('h1')).toBe('This site’s sign-in is not set up correctly');
      expect(await page.textContent('section')).toContain(
        `Cause (OAUTH_HOST_MISMATCH): The login started at host ${new URL(localhost).host} but redirectUri sends the browser back to ${appUrl}; cookies belong to one host`,
      );
      expect(await page.textContent('section')).toContain(`Fix: Open the app at ${appUrl} (the host of redirectUri)`);
      expect(await provider.tokenRequests()).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
