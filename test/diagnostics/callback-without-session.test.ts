import request from 'supertest';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { loginWithoutBrowser, pathOf } from '../support/login-flow';
import { providerOptions, REDIRECT_URI } from '../support/test-app';
import { HTML, newcomerApp, recordProcessWarnings } from './helpers';

// Issue 23, item 1: a callback that finds no pending login says which of the causes it can see
// (secure cookie on http, proxy not trusted, proxy without X-Forwarded-Proto, another host than
// redirectUri's, no cookie, session lost), with the fix, on the page (development) and once in
// the log; the login start already warns when the cookie will not come back.
const HTTPS_REDIRECT = 'https://app.example/callback';
let as: TestAuthorizationServer;
let processWarnings: ReturnType<typeof recordProcessWarnings>;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI, HTTPS_REDIRECT, 'http://localhost:3000/callback'] });
  processWarnings = recordProcessWarnings();
});
afterAll(async () => {
  processWarnings.restore();
  await as.stop();
});
beforeEach(() => as.clearRequests());

/** /login through the provider and back to the callback, with the cookies the app set (supertest agent). */
async function loginRound(agent: request.Agent, headers: Record<string, string> = {}) {
  const start = await agent.get('/login').set(headers).expect(302);
  const { callbackUrl } = await loginWithoutBrowser(start.headers.location as string, { user: 'alice' });
  return agent.get(pathOf(callbackUrl)).set(headers).set('Accept', 'application/json');
}

describe('secure session cookie on plain http', () => {
  it('should warn at the login start and fail the callback naming the secure cookie and the fix, with no token request', async () => {
    const { app, warnings } = newcomerApp(providerOptions(as), { cookie: { secure: true } });
    const res = await loginRound(request.agent(app));
    expect(res.status).toBe(400);
    expect(res.body.message).toBe(
      'No pending login in this session. The session cookie is `secure` but the app is served over http, so express-session never sets it and the callback arrives without the session: the login cannot complete. Fix: Serve the app over https, or set the express-session cookie option `secure: false` in local development (or `secure: "auto"`).',
    );
    expect(warnings.map((w) => w.code)).toEqual(['OAUTH_COOKIE_SECURE_ON_HTTP']);
    expect(warnings[0]!.message).toContain('[provider "default"] The session cookie is `secure` but the app is served over http');
    expect(await as.tokenRequests()).toEqual([]);
    expect(processWarnings.codes()).toContain('OAUTH_COOKIE_SECURE_ON_HTTP');
  });

  it('should show the cause and the fix on the error page in development, and only the family text in production', async () => {
    const dev = newcomerApp(providerOptions(as), { cookie: { secure: true } });
    await request(dev.app).get('/login').expect(302);
    const page = await request(dev.app).get('/callback?state=s0123456789&code=c').set('Accept', HTML).expect(400);
    expect(page.text).toContain('<h1>This site’s sign-in is not set up correctly</h1>');
    expect(page.text).toContain('<h2>For the developer</h2>');
    expect(page.text).toContain('<b>Cause (OAUTH_COOKIE_SECURE_ON_HTTP):</b> The session cookie is `secure` but the app is served over http');
    expect(page.text).toContain('<b>Fix:</b> Serve the app over https, or set the express-session cookie option `secure: false` in local development (or `secure: &#34;auto&#34;`).');
    expect(page.text).toContain(
      '<a href="https://github.com/express-oauth2-session/express-oauth2-session/blob/main/docs/troubleshooting.md#oauth_cookie_secure_on_http">the troubleshooting guide</a> (<code>docs/troubleshooting.md#oauth_cookie_secure_on_http</code> in the package)',
    );

    const prod = newcomerApp(providerOptions(as), { cookie: { secure: true }, configure: (app) => app.set('env', 'production') });
    const prodPage = await request(prod.app).get('/callback?state=s0123456789&code=c').set('Accept', HTML).expect(400);
    expect(prodPage.text).toContain('<h1>This site’s sign-in is not set up correctly</h1>');
    expect(prodPage.text).toContain('Trying again will not help');
    expect(prodPage.text).not.toContain('For the developer');
    expect(prodPage.text).not.toContain('Try signing in again');
  });

  it('should log each cause once per middleware instance, however many callbacks fail', async () => {
    const { app, warnings } = newcomerApp(providerOptions(as), { cookie: { secure: true } });
    for (let i = 0; i < 3; i++) await request(app).get(`/callback?state=state-${i}-0123456789&code=c`).expect(400);
    expect(warnings.map((w) => w.code)).toEqual(['OAUTH_COOKIE_SECURE_ON_HTTP']);
  });
});

describe('TLS-terminating proxy', () => {
  const behindProxy = () => providerOptions(as, { redirectUri: HTTPS_REDIRECT });

  it('should name `trust proxy` when the proxy sends X-Forwarded-Proto: https that Express ignores', async () => {
    const { app, warnings } = newcomerApp(behindProxy(), { cookie: { secure: true } });
    const res = await loginRound(request.agent(app), { 'X-Forwarded-Proto': 'https' });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('The request came through a proxy that sends "X-Forwarded-Proto: https", but the app does not trust the proxy');
    expect(res.body.message).toContain('Fix: app.set("trust proxy", 1)');
    expect(warnings.map((w) => w.code)).toEqual(['OAUTH_PROXY_NOT_TRUSTED']);
  });

  it('should log in once trust proxy is set (the fix the message gives works)', async () => {
    const { app, warnings } = newcomerApp(behindProxy(), { cookie: { secure: true }, configure: (a) => a.set('trust proxy', 1) });
    const agent = request.agent(app);
    const start = await agent.get('/login').set('X-Forwarded-Proto', 'https').expect(302);
    const cookie = (start.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]!;
    const { callbackUrl } = await loginWithoutBrowser(start.headers.location as string, { user: 'alice' });
    // The agent does not send a Secure cookie over http: send it as the browser would over https.
    await request(app).get(pathOf(callbackUrl)).set('X-Forwarded-Proto', 'https').set('Cookie', cookie).expect(303);
    expect(warnings).toEqual([]);
  });

  it('should name X-Forwarded-Proto when an https redirectUri is served over http without it', async () => {
    const { app, warnings } = newcomerApp(behindProxy(), { cookie: { secure: true } });
    const res = await loginRound(request.agent(app));
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('redirectUri is https but this request reached the app over http without "X-Forwarded-Proto: https"');
    expect(res.body.message).toContain('Fix: Make the TLS proxy send X-Forwarded-Proto (nginx: proxy_set_header X-Forwarded-Proto $scheme;) and app.set("trust proxy", 1).');
    expect(warnings.map((w) => w.code)).toEqual(['OAUTH_PROXY_WITHOUT_FORWARDED_PROTO']);
  });
});

describe('browser on another host than redirectUri (localhost against 127.0.0.1)', () => {
  it('should warn at the login start and name both hosts when the callback comes without the cookie', async () => {
    const { app, warnings } = newcomerApp(providerOptions(as));
    const start = await request(app).get('/login').set('Host', 'localhost:3000').expect(302);
    expect(warnings.map((w) => w.code)).toEqual(['OAUTH_HOST_MISMATCH']);
    const { callbackUrl } = await loginWithoutBrowser(start.headers.location as string, { user: 'alice' });
    // The browser follows redirectUri to 127.0.0.1, which never got the cookie set on localhost.
    const res = await request(app).get(pathOf(callbackUrl)).set('Host', '127.0.0.1:3000').set('Accept', 'application/json').expect(400);
    expect(res.body.message).toBe(
      'No pending login in this session. The login started at host localhost:3000 but redirectUri sends the browser back to http://127.0.0.1:3000; cookies belong to one host, so the callback arrives without the session cookie and the login cannot complete. Fix: Open the app at http://127.0.0.1:3000 (the host of redirectUri), or set redirectUri to the host you use (and register it at the provider). Behind a proxy that rewrites Host, forward the browser’s host (X-Forwarded-Host).',
    );
    expect(warnings.map((w) => w.code)).toEqual(['OAUTH_HOST_MISMATCH']);
    expect(await as.tokenRequests()).toEqual([]);
  });

  it('should not warn when the login starts on redirectUri\u2019s host (another port in tests and behind proxies is not a mismatch)', async () => {
    const { app, warnings } = newcomerApp(providerOptions(as));
    await request(app).get('/login').set('Host', '127.0.0.1:3000').expect(302);
    await request(app).get('/login').expect(302);
    expect(warnings).toEqual([]);
  });
});

describe('no cookie at all, and a session the store no longer has', () => {
  it('should say the browser sent no session cookie, and keep the page in the sign-in-again family', async () => {
    const { app, warnings } = newcomerApp(providerOptions(as));
    const res = await request(app).get('/callback?state=forged-0123456789&code=c').set('Accept', 'application/json').expect(400);
    expect(res.body).toEqual({
      error: 'InvalidCallbackError',
      code: 'OAUTH_INVALID_CALLBACK',
      message:
        'No pending login in this session. The browser sent no session cookie with the callback, so there is no pending login to complete (a callback URL opened again in another browser also looks like this). Fix: Start logins at the app’s login route on http://127.0.0.1:3000 (the host of redirectUri); keep the express-session cookie `sameSite: "lax"` and its path and domain covering the callback path.',
    });
    expect(warnings.map((w) => w.code)).toEqual(['OAUTH_NO_SESSION_COOKIE']);
    const page = await request(app).get('/callback?state=forged-0123456789&code=c').set('Accept', HTML).expect(400);
    expect(page.text).toContain('<h1>Sign-in did not complete</h1>');
    expect(page.text).toContain('<a href="/login">Try signing in again</a>');
  });

  it('should say the store has no session for the cookie sent (expired, MemoryStore restarted, secret changed)', async () => {
    const first = newcomerApp(providerOptions(as));
    const agent = request.agent(first.app);
    const start = await agent.get('/login').expect(302);
    const cookie = (start.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]!;
    const { callbackUrl } = await loginWithoutBrowser(start.headers.location as string, { user: 'alice' });
    // A restarted process: a new MemoryStore that never saw the session.
    const restarted = newcomerApp(providerOptions(as));
    const res = await request(restarted.app).get(pathOf(callbackUrl)).set('Cookie', cookie).set('Accept', 'application/json').expect(400);
    expect(res.body.message).toBe(
      'No pending login in this session. The browser sent a session cookie, but the session store has no session for it: it expired, the store lost it (MemoryStore after a restart, several processes each with their own MemoryStore), or the session secret changed. Fix: Use a shared persistent store (such as connect-redis) and a stable session secret, then start the login again.',
    );
    expect(restarted.warnings.map((w) => w.code)).toEqual(['OAUTH_SESSION_LOST']);
  });

  it('should keep the replay message when the session cookie came back (a used or expired state)', async () => {
    const { app, warnings } = newcomerApp(providerOptions(as));
    const agent = request.agent(app);
    const start = await agent.get('/login').expect(302);
    const { callbackUrl } = await loginWithoutBrowser(start.headers.location as string, { user: 'alice' });
    await agent.get(pathOf(callbackUrl)).expect(303);
    const again = await agent.get(pathOf(callbackUrl)).set('Accept', 'application/json').expect(400);
    expect(again.body.message).toBe('Unknown, expired or already used login state; start the login again.');
    expect(warnings).toEqual([]);
  });
});
