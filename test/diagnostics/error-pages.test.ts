import express from 'express';
import request from 'supertest';
import { oauthErrorHandler, oauthMiddleware, requireAuth } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { FaultyStore } from '../support/faulty-store';
import { login, loginWithoutBrowser, pathOf } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';
import { HTML, recordProcessWarnings } from './helpers';

// Issue 23, item 3: each error family has its own title and next step (sign in again; access
// denied; the app is misconfigured, for the developer; the service is down, try later); HTML only
// for browser page loads, JSON otherwise.
let as: TestAuthorizationServer;
let processWarnings: ReturnType<typeof recordProcessWarnings>;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI] });
  processWarnings = recordProcessWarnings();
});
afterAll(async () => {
  processWarnings.restore();
  await as.stop();
});

const h1 = (html: string) => /<h1>(.*?)<\/h1>/.exec(html)?.[1];

describe('error pages by family', () => {
  it('sign in again: a replayed callback (title, the message, a link to log in)', async () => {
    const { app } = createTestApp({ oauth: providerOptions(as) });
    const agent = request.agent(app);
    const start = await agent.get('/login').expect(302);
    const { callbackUrl } = await loginWithoutBrowser(start.headers.location as string, { user: 'alice' });
    await agent.get(pathOf(callbackUrl)).expect(303);
    const page = await agent.get(pathOf(callbackUrl)).set('Accept', HTML).expect(400);
    expect(h1(page.text)).toBe('Sign-in did not complete');
    expect(page.text).toContain('<p>Unknown, expired or already used login state; start the login again.</p>');
    expect(page.text).toContain('<a href="/login">Try signing in again</a> · <a href="/">Home</a>');
  });

  it('access denied: the user refused consent at the provider', async () => {
    const { app } = createTestApp({ oauth: providerOptions(as) });
    const agent = request.agent(app);
    const start = await agent.get('/login').expect(302);
    const state = new URL(start.headers.location as string).searchParams.get('state')!;
    const page = await agent
      .get(`/callback?error=access_denied&state=${state}&iss=${encodeURIComponent(as.issuer)}`)
      .set('Accept', HTML)
      .expect(403);
    expect(h1(page.text)).toBe('Access denied');
    expect(page.text).toContain('The authorization server answered the login with error &#34;access_denied&#34;.');
  });

  it('misconfigured: the app sends the token to an origin it does not allow (a programming error)', async () => {
    const { app } = createTestApp({
      oauth: providerOptions(as),
      routes: (a) => a.get('/call', (req, res, next) => void req.oauth.get('https://elsewhere.example/x').then(() => res.send('sent'), next)),
    });
    const agent = request.agent(app);
    await login(agent);
    const page = await agent.get('/call').set('Accept', HTML).expect(500);
    expect(h1(page.text)).toBe('This site’s sign-in is not set up correctly');
    expect(page.text).toContain('Trying again will not help: the site’s developers need to fix its configuration.');
    expect(page.text).toContain('<p>Refusing to send the access token to https://elsewhere.example: not in allowedOrigins.</p>');
    expect(page.text).not.toContain('Try signing in again');
    const json = await agent.get('/call').set('Accept', 'application/json').expect(500);
    expect(json.body).toEqual({ error: 'OAuthError', code: 'OAUTH_ORIGIN_NOT_ALLOWED', message: 'The sign-in service failed; try again.' });
  });

  it('misconfigured: express-session is not mounted', async () => {
    const app = express();
    app.use(oauthMiddleware(providerOptions(as)));
    app.use(oauthErrorHandler());
    const page = await request(app).get('/login').set('Accept', HTML).expect(500);
    expect(h1(page.text)).toBe('This site’s sign-in is not set up correctly');
    expect(page.text).toContain('req.session is missing: mount express-session (app.use(session(...))) before oauthMiddleware().');
  });

  it('unavailable: the session store is down (try later, not "sign in again")', async () => {
    const store = new FaultyStore();
    const { app } = createTestApp({ store, oauth: providerOptions(as), routes: (a) => a.get('/private', requireAuth(), (_req, res) => void res.send('ok')) });
    const agent = request.agent(app);
    await login(agent);
    store.emit('disconnect');
    const page = await agent.get('/private').set('Accept', HTML).expect(503);
    expect(h1(page.text)).toBe('Sign-in is temporarily unavailable');
    expect(page.text).toContain('Please try again in a few minutes.');
    expect(page.text).toContain('<p>The session store is unavailable; try again shortly.</p>');
    const json = await agent.get('/private').set('Accept', 'application/json').expect(503);
    expect(json.body).toEqual({ error: 'SessionUnavailableError', code: 'OAUTH_SESSION_UNAVAILABLE', message: 'The session store is unavailable; try again shortly.' });
    store.emit('connect');
  });

  it('should show the developer part only outside production (Express env)', async () => {
    const dev = createTestApp({ oauth: providerOptions(as) });
    const prod = createTestApp({ oauth: providerOptions(as) });
    prod.app.set('env', 'production');
    const devPage = await request(dev.app).get('/callback?state=s-0123456789&code=c').set('Accept', HTML).expect(400);
    const prodPage = await request(prod.app).get('/callback?state=s-0123456789&code=c').set('Accept', HTML).expect(400);
    expect(devPage.text).toContain('<h2>For the developer</h2>');
    expect(devPage.text).toContain('<b>Cause (OAUTH_NO_SESSION_COOKIE):</b>');
    expect(devPage.text.split('No pending login in this session.')).toHaveLength(2); // the message once, not again for the developer
    expect(prodPage.text).not.toContain('For the developer');
    expect([h1(devPage.text), h1(prodPage.text)]).toEqual(['Sign-in did not complete', 'Sign-in did not complete']);
  });
});
