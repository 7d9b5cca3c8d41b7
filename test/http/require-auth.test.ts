import request from 'supertest';
import type express from 'express';
import { requireAuth, type RequireAuthOptions } from 'express-oauth2-session';
import { authorizeWithoutBrowser, type CookieJar } from 'express-oauth2-session/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { authorize, pathOf } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Issue 14 item 6: requireAuth({ scopes, acrValues, maxAge }) against oidc-provider with acr values.
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300, scopes: ['api:write'], acrValues: ['urn:test:pwd', 'urn:test:mfa'] });
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

const HTML = 'text/html,application/xhtml+xml,*/*;q=0.8';

/** An app with GET /guarded behind requireAuth(rules); logged in as alice. Returns the agent and her AS cookie jar. */
async function loggedIn(rules: RequireAuthOptions, overrides: Record<string, unknown> = {}) {
  const { app } = createTestApp({
    oauth: providerOptions(as, overrides),
    routes: (a: express.Express) => a.get('/guarded', requireAuth(rules), (req, res) => res.json({ ok: true, user: req.oauth.user })),
  });
  const agent = request.agent(app);
  const { callbackUrl, jar } = await authorize(agent, { user: 'alice' });
  await agent.get(pathOf(callbackUrl)).expect(303);
  return { agent, jar };
}

/** Follow a step-up redirect through the AS and the callback; returns where the callback sends the browser. */
async function completeStepUp(agent: request.Agent, location: string, jar: CookieJar): Promise<string> {
  const { callbackUrl } = await authorizeWithoutBrowser(location, { user: 'alice', jar });
  return (await agent.get(pathOf(callbackUrl)).expect(303)).headers.location as string;
}

function authorizeParams(location: string): Record<string, string> {
  const { state: _s, nonce: _n, code_challenge: _c, ...rest } = Object.fromEntries(new URL(location).searchParams);
  return rest;
}

describe('requireAuth({ scopes })', () => {
  it('should send an HTML GET to the AS for the union of scopes, then let it through', async () => {
    const { agent, jar } = await loggedIn({ scopes: ['api:write'] });
    const start = await agent.get('/guarded?x=1').set('Accept', HTML).expect(302);
    expect(start.headers['cache-control']).toBe('no-store');
    expect(authorizeParams(start.headers.location as string)).toEqual({
      client_id: 'rp-basic',
      code_challenge_method: 'S256',
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope: 'openid profile email api:write',
    });
    expect(await completeStepUp(agent, start.headers.location as string, jar)).toBe('/guarded?x=1');
    expect((await agent.get('/guarded').set('Accept', HTML).expect(200)).body).toEqual({ ok: true, user: { sub: 'alice' } });
  });

  it('should add incrementalAuthorizationParams (Google: include_granted_scopes) to that login only', async () => {
    const { agent } = await loggedIn({ scopes: ['api:write'] }, { incrementalAuthorizationParams: { include_granted_scopes: 'true' } });
    const start = await agent.get('/guarded').set('Accept', HTML).expect(302);
    expect(new URL(start.headers.location as string).searchParams.get('include_granted_scopes')).toBe('true');
    const plain = await agent.get('/login').expect(302);
    expect(new URL(plain.headers.location as string).searchParams.has('include_granted_scopes')).toBe(false);
  });

  it('should answer an API request 403 insufficient_scope with a Bearer challenge', async () => {
    const { agent } = await loggedIn({ scopes: ['api:write'] });
    const res = await agent.get('/guarded').set('Accept', 'application/json').expect(403);
    expect(res.body).toEqual({ error: 'insufficient_scope', scope: 'api:write' });
    expect(res.headers['www-authenticate']).toBe('Bearer error="insufficient_scope", scope="api:write"');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('should answer 403 instead of asking again when the provider did not grant the scope', async () => {
    const { agent, jar } = await loggedIn({ scopes: ['api:unknown'] });
    const start = await agent.get('/guarded').set('Accept', HTML).expect(302);
    expect(new URL(start.headers.location as string).searchParams.get('scope')).toBe('openid profile email api:unknown');
    await completeStepUp(agent, start.headers.location as string, jar);
    const res = await agent.get('/guarded').set('Accept', HTML).expect(403);
    expect(res.text).toBe('<!doctype html><meta charset="utf-8"><title>Forbidden</title><h1>Forbidden</h1><p>Your sign-in does not give the access this page needs.</p>');
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  });

  it('should let a token with the scope through without a new login', async () => {
    const { agent } = await loggedIn({ scopes: ['email'] });
    await agent.get('/guarded').set('Accept', HTML).expect(200);
    expect((await as.tokenRequests()).map((r) => r.grantType)).toEqual(['authorization_code']);
  });
});

describe('requireAuth({ acrValues })', () => {
  it('should log in again with acr_values and prompt=login when the acr does not match', async () => {
    const { agent, jar } = await loggedIn({ acrValues: ['urn:test:mfa'] });
    const api = await agent.get('/guarded').expect(401);
    expect(api.body).toEqual({ error: 'insufficient_user_authentication', acr_values: 'urn:test:mfa' });
    expect(api.headers['www-authenticate']).toBe('Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="urn:test:mfa"');
    const start = await agent.get('/guarded').set('Accept', HTML).expect(302);
    expect(authorizeParams(start.headers.location as string)).toMatchObject({ acr_values: 'urn:test:mfa', prompt: 'login', scope: 'openid profile email' });
    expect(await completeStepUp(agent, start.headers.location as string, jar)).toBe('/guarded');
    await agent.get('/guarded').set('Accept', HTML).expect(200);
  });

  it('should answer 403 instead of looping when the provider cannot give that acr', async () => {
    const { agent, jar } = await loggedIn({ acrValues: ['urn:test:hardware'] });
    const start = await agent.get('/guarded').set('Accept', HTML).expect(302);
    await completeStepUp(agent, start.headers.location as string, jar);
    await agent.get('/guarded').set('Accept', HTML).expect(403);
    expect((await agent.get('/guarded').expect(401)).body).toEqual({ error: 'insufficient_user_authentication', acr_values: 'urn:test:hardware' });
  });
});

describe('requireAuth({ maxAge })', () => {
  it('should log in again with max_age when the ID token has no auth_time, then let it through', async () => {
    const { agent, jar } = await loggedIn({ maxAge: 600 });
    const api = await agent.get('/guarded').expect(401);
    expect(api.body).toEqual({ error: 'insufficient_user_authentication', max_age: 600 });
    const start = await agent.get('/guarded').set('Accept', HTML).expect(302);
    expect(authorizeParams(start.headers.location as string)).toMatchObject({ max_age: '600' });
    expect(authorizeParams(start.headers.location as string).prompt).toBeUndefined();
    expect(await completeStepUp(agent, start.headers.location as string, jar)).toBe('/guarded');
    await agent.get('/guarded').set('Accept', HTML).expect(200);
  });
});

describe('requireAuth rules validation', () => {
  it.each([
    [{ scopes: 'api:write' }, 'requireAuth: `scopes` must be a non-empty array of scope strings (no spaces, commas, quotes or backslashes)'],
    [{ scopes: ['a b'] }, 'requireAuth: `scopes` must be a non-empty array of scope strings (no spaces, commas, quotes or backslashes)'],
    [{ acrValues: [] }, 'requireAuth: `acrValues` must be a non-empty array of acr values (no spaces, commas, quotes or backslashes)'],
    [{ maxAge: -1 }, 'requireAuth: `maxAge` must be a whole number of seconds ≥ 0'],
    [{ claims: { groups: ['admin'] } }, 'requireAuth: `claims.groups` must be a string, number, boolean or null'],
    [{ scope: ['x'] }, 'requireAuth: `scope` is not an option; did you mean `scopes`?'],
  ])('should refuse %j', (options, message) => {
    expect(() => requireAuth(options as never)).toThrow(new TypeError(message));
  });
});
