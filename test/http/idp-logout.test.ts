import request from 'supertest';
import type { OAuthMiddlewareOptions } from 'express-oauth2-session';
import { CookieJar, endSessionWithoutBrowser } from 'express-oauth2-session/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { authorize, pathOf } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// idpLogout: true end to end against the real AS: POST /logout → the AS's end-session endpoint →
// its confirmation page (the form POSTed as a browser would) → post_logout_redirect_uri → returnTo.
const SIGNED_OUT = 'http://127.0.0.1:3000/signed-out';
const ALPHA_CB = 'http://127.0.0.1:3000/callback/alpha';
const BETA_CB = 'http://127.0.0.1:3000/callback/beta';
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI, ALPHA_CB, BETA_CB], postLogoutRedirectUris: ['http://127.0.0.1:3000/', SIGNED_OUT], accessTokenTTL: 300 });
});
afterAll(() => as.stop());

/** Log in on a fresh app; `jar` holds the AS's own session cookies (its SSO session). */
async function loggedIn(overrides: Record<string, unknown> = {}) {
  const idTokens: string[] = [];
  const oauth = {
    ...providerOptions(as, { endSessionUrl: as.endpoints.endSession, ...overrides }),
    idpLogout: true,
    onTokens: ({ tokens }) => void (tokens?.idToken && idTokens.push(tokens.idToken)),
  } as OAuthMiddlewareOptions;
  const { app } = createTestApp({ oauth, routes: (a) => a.get('/bye', (_req, res) => void res.send('bye')) });
  const agent = request.agent(app);
  const { callbackUrl, jar } = await authorize(agent);
  await agent.get(pathOf(callbackUrl)).expect(303);
  return { app, agent, jar, idToken: idTokens[0] as string };
}

/** After the AS logged the user out, a new authorization with the same jar asks for a login again. */
async function asAsksForLogin(jar: CookieJar): Promise<boolean> {
  const url = new URL(as.endpoints.authorization);
  for (const [k, v] of Object.entries({
    client_id: 'rp-basic',
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: 'openid',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  }))
    url.searchParams.set(k, v);
  let res = await fetch(url, { headers: { cookie: jar.header(url.toString()) ?? '' }, redirect: 'manual' });
  jar.store(url.toString(), res);
  const interaction = new URL(res.headers.get('location') as string, url).toString();
  res = await fetch(interaction, { headers: { cookie: jar.header(interaction) ?? '' }, redirect: 'manual' });
  return (await res.text()).includes('name="login"');
}

describe('POST /logout with idpLogout: true', () => {
  it('should pass the AS confirmation page and land on postLogoutRedirect, the AS session ended too', async () => {
    const { agent, jar, idToken } = await loggedIn();
    const res = await agent.post('/logout').expect(303);
    expect(res.headers.location).toBe(`${as.endpoints.endSession}?id_token_hint=${idToken}&client_id=rp-basic&post_logout_redirect_uri=${encodeURIComponent('http://127.0.0.1:3000/')}`);
    expect(String(res.headers['set-cookie'])).not.toContain('oauth.logout');
    const { redirectUrl, confirmationPage } = await endSessionWithoutBrowser(res.headers.location as string, { jar });
    expect(confirmationPage).toContain('Do you want to sign-out from');
    expect(redirectUrl).toBe('http://127.0.0.1:3000/');
    expect(await asAsksForLogin(jar)).toBe(true);
    expect((await agent.get('/session')).body.authenticated).toBe(false);
  });

  it('should come back to returnTo: state bound to a short-lived cookie, consumed at the landing', async () => {
    const { agent, jar } = await loggedIn();
    const res = await agent.post('/logout?returnTo=%2Fbye%3Fx%3D1').expect(303);
    const state = new URL(res.headers.location as string).searchParams.get('state') as string;
    expect(state).toMatch(/^[\w-]{43}$/);
    const cookies = res.headers['set-cookie'] as unknown as string[];
    expect(cookies[1]).toBe(`oauth.logout=${state}.${Buffer.from('/bye?x=1').toString('base64url')}; Path=/; Max-Age=600; HttpOnly; SameSite=Lax`);
    const { redirectUrl } = await endSessionWithoutBrowser(res.headers.location as string, { jar });
    expect(redirectUrl).toBe(`http://127.0.0.1:3000/?state=${state}`);
    const landing = await agent.get(pathOf(redirectUrl)).expect(303);
    expect([landing.headers.location, landing.headers['cache-control']]).toEqual(['/bye?x=1', 'no-store']);
    expect(landing.headers['set-cookie']).toEqual(['oauth.logout=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax']);
    expect((await agent.get('/bye?x=1').expect(200)).text).toBe('bye');
    await agent.get(pathOf(redirectUrl)).expect(404); // consumed: the app's own page (none here)
  });

  it('should come back through a configured postLogoutRedirectUri', async () => {
    const { agent, jar } = await loggedIn({ postLogoutRedirectUri: SIGNED_OUT });
    const res = await agent.post('/logout?returnTo=%2Fbye').expect(303);
    const url = new URL(res.headers.location as string);
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe(SIGNED_OUT);
    expect((res.headers['set-cookie'] as unknown as string[])[1]).toMatch(/^oauth\.logout=[\w-]{43}\.L2J5ZQ; Path=\/signed-out; Max-Age=600; HttpOnly; SameSite=Lax$/);
    const { redirectUrl } = await endSessionWithoutBrowser(res.headers.location as string, { jar });
    expect(redirectUrl).toBe(`${SIGNED_OUT}?state=${url.searchParams.get('state')}`);
    expect((await agent.get(pathOf(redirectUrl)).expect(303)).headers.location).toBe('/bye');
  });

  it('should log out locally to returnTo when the provider has no end-session endpoint', async () => {
    const { agent } = await loggedIn({ endSessionUrl: undefined });
    const res = await agent.post('/logout?returnTo=%2Fbye').expect(303);
    expect(res.headers.location).toBe('/bye');
    expect(String(res.headers['set-cookie'])).not.toContain('oauth.logout');
  });
});

describe('the post-logout landing', () => {
  const app = () => createTestApp({ oauth: { ...providerOptions(as, { endSessionUrl: as.endpoints.endSession }), idpLogout: true } as OAuthMiddlewareOptions }).app;
  const cookie = (state: string, returnTo: string) => `oauth.logout=${state}.${Buffer.from(returnTo).toString('base64url')}`;

  it('should leave the page to the app without the cookie, or with another state (clearing the cookie)', async () => {
    await request(app()).get('/?state=abc').expect(404);
    const other = await request(app()).get('/?state=abc').set('Cookie', cookie('xyz', '/bye')).expect(404);
    expect(other.headers['set-cookie']).toEqual(['oauth.logout=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax']);
    await request(app()).post('/?state=abc').set('Cookie', cookie('abc', '/bye')).expect(404);
  });

  it.each(['//evil.example', 'https://evil.example/', '/\\evil.example'])('should send an off-site returnTo %s to postLogoutRedirect', async (returnTo) => {
    const res = await request(app()).get('/?state=abc').set('Cookie', cookie('abc', returnTo)).expect(303);
    expect(res.headers.location).toBe('/');
  });
});

describe('idpLogout with several providers', () => {
  /** alpha (rp-basic) and beta (rp-post) at the same AS; `alphaEndSession` decides whether alpha has an end-session endpoint. */
  async function bothLoggedIn(alphaEndSession: boolean) {
    const alpha = providerOptions(as, { redirectUri: ALPHA_CB, ...(alphaEndSession ? { endSessionUrl: as.endpoints.endSession } : {}) });
    const beta = providerOptions(as, { clientId: 'rp-post', redirectUri: BETA_CB, endSessionUrl: as.endpoints.endSession });
    const { app } = createTestApp({ oauth: { providers: { alpha, beta }, idpLogout: true } as OAuthMiddlewareOptions });
    const agent = request.agent(app);
    for (const provider of ['beta', 'alpha']) {
      const { callbackUrl } = await authorize(agent, { loginPath: `/login/${provider}` });
      await agent.get(pathOf(callbackUrl)).expect(303);
    }
    return agent;
  }

  it('should end every login locally and visit the end-session endpoint of the first provider in config order that has one', async () => {
    const onlyBeta = await (await bothLoggedIn(false)).post('/logout').expect(303);
    expect(new URL(onlyBeta.headers.location as string).searchParams.get('client_id')).toBe('rp-post');
    const agent = await bothLoggedIn(true);
    const both = await agent.post('/logout').expect(303);
    expect(new URL(both.headers.location as string).searchParams.get('client_id')).toBe('rp-basic'); // alpha: first in config order, though logged in last
    expect((await agent.get('/session')).body.authenticated).toBe(false);
  });
});
