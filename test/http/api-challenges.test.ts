import request from 'supertest';
import type express from 'express';
import { authorizeWithoutBrowser, type CookieJar } from 'express-oauth2-session/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { startChallengeResourceServer, type ChallengeResourceServer } from '../support/challenge-resource-server';
import { authorize, pathOf } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Issue 21 item 4: an API's WWW-Authenticate challenge (RFC 6750 insufficient_scope, RFC 9470
// step-up, RFC 9728 resource metadata) through req.oauth, against oidc-provider and a resource
// server that introspects the token (acr and auth_time included). Also runs on Express 4.
let as: TestAuthorizationServer;
let rs: ChallengeResourceServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300, scopes: ['api:write'], acrValues: ['urn:test:pwd', 'urn:test:mfa'], accessTokenAuthContext: true });
  rs = await startChallengeResourceServer({ issuer: as.issuer });
});
afterAll(async () => {
  await rs.stop();
  await as.stop();
});
beforeEach(async () => {
  await as.clearRequests();
  rs.seen.length = 0;
  rs.setMetadata(undefined);
  rs.setFreshAfter(0);
});

const HTML = 'text/html,application/xhtml+xml,*/*;q=0.8';

/** An app whose GET /call?path=… calls the resource server through req.oauth; logged in as alice. */
async function loggedIn() {
  const { app } = createTestApp({
    oauth: providerOptions(as, { apiBaseUrl: rs.url }),
    routes: (a: express.Express) =>
      a.get('/call', (req, res, next) => {
        req.oauth
          .get(String(req.query.path))
          .then(async (r) => res.status(r.status).json(await r.json()))
          .catch((err: { status: number; code: string; message: string }) => (req.query.raw ? res.status(err.status).json({ code: err.code, message: err.message }) : next(err)));
      }),
  });
  const agent = request.agent(app);
  const { callbackUrl, jar } = await authorize(agent, { user: 'alice' });
  await agent.get(pathOf(callbackUrl)).expect(303);
  await as.clearRequests();
  return { agent, jar };
}

/** Token and revocation requests (the resource server's introspections left out). */
async function providerCalls(): Promise<Array<[string, string | undefined]>> {
  return (await as.requests()).filter((r) => r.endpoint !== '/token/introspection').map((r) => [r.endpoint, r.grantType]);
}

const call = (path: string) => `/call?path=${encodeURIComponent(path)}`;

async function completeLogin(agent: request.Agent, location: string, jar: CookieJar): Promise<string> {
  const { callbackUrl } = await authorizeWithoutBrowser(location, { user: 'alice', jar });
  return (await agent.get(pathOf(callbackUrl)).expect(303)).headers.location as string;
}

function authorizeParams(location: string): Record<string, string> {
  const { state: _s, nonce: _n, code_challenge: _c, ...rest } = Object.fromEntries(new URL(location).searchParams);
  return rest;
}

describe('insufficient_scope (RFC 6750 §3.1)', () => {
  it('should answer a program 403 JSON carrying the challenge, with no new login and no retry', async () => {
    const { agent } = await loggedIn();
    const res = await agent.get(call('/scope/api:write')).set('Accept', 'application/json').expect(403);
    expect(res.body).toEqual({
      error: 'ApiChallengeError',
      code: 'OAUTH_INSUFFICIENT_SCOPE',
      message: 'The API needs more access (api:write).',
      challenge: { error: 'insufficient_scope', scope: 'api:write' },
    });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(rs.seen.map((s) => s.outcome)).toEqual(['insufficient_scope']);
    expect(await providerCalls()).toEqual([]);
  });

  it('should send a page load to an incremental login for the extra scope, back to the same page, where the call then succeeds', async () => {
    const { agent, jar } = await loggedIn();
    const start = await agent.get(call('/scope/api:write')).set('Accept', HTML).expect(302);
    expect(start.headers['cache-control']).toBe('no-store');
    expect(authorizeParams(start.headers.location as string)).toEqual({
      client_id: 'rp-basic',
      code_challenge_method: 'S256',
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope: 'openid profile email api:write',
    });
    expect(await completeLogin(agent, start.headers.location as string, jar)).toBe(call('/scope/api:write'));
    const after = await agent.get(call('/scope/api:write')).set('Accept', HTML).expect(200);
    expect(after.body).toEqual({ sub: 'alice', scope: 'openid profile email api:write', acr: 'urn:test:pwd' });
    // The same user's new login continues the grant: nothing was revoked (see relogin-revocation.test.ts).
    expect(await providerCalls()).toEqual([['/token', 'authorization_code']]);
  });

  it('should not ask again when the login already asked for that scope and did not get it: 403 page, no loop', async () => {
    const { agent, jar } = await loggedIn();
    const start = await agent.get(call('/scope/api:unknown')).set('Accept', HTML).expect(302);
    expect(new URL(start.headers.location as string).searchParams.get('scope')).toBe('openid profile email api:unknown');
    await completeLogin(agent, start.headers.location as string, jar);
    const again = await agent.get(call('/scope/api:unknown')).set('Accept', HTML).expect(403);
    expect(again.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(again.text).toContain('<p>The API needs more access (api:unknown).</p>');
    expect(again.text).toContain('OAUTH_INSUFFICIENT_SCOPE (HTTP 403)');
    expect(rs.seen.map((s) => s.outcome)).toEqual(['insufficient_scope', 'insufficient_scope']);
  });

  it('should answer a non-GET request 403 JSON without starting a login, whatever it accepts', async () => {
    const { app } = createTestApp({
      oauth: providerOptions(as, { apiBaseUrl: rs.url }),
      routes: (a: express.Express) => a.post('/write', (req, res, next) => void req.oauth.post('/scope/api:write', { body: { x: 1 } }).then((r) => res.sendStatus(r.status), next)),
    });
    const agent = request.agent(app);
    const { callbackUrl } = await authorize(agent, { user: 'alice' });
    await agent.get(pathOf(callbackUrl)).expect(303);
    const res = await agent.post('/write').set('Accept', HTML).expect(403);
    expect(res.body).toEqual({
      error: 'ApiChallengeError',
      code: 'OAUTH_INSUFFICIENT_SCOPE',
      message: 'The API needs more access (api:write).',
      challenge: { error: 'insufficient_scope', scope: 'api:write' },
    });
    expect(await providerCalls()).toEqual([['/token', 'authorization_code']]);
  });
});

describe('step-up (RFC 9470)', () => {
  it('should log in again with acr_values and prompt=login, then the API accepts the stepped-up token', async () => {
    const { agent, jar } = await loggedIn();
    const json = await agent.get(call('/acr/urn:test:mfa')).set('Accept', 'application/json').expect(403);
    expect(json.body).toEqual({
      error: 'ApiChallengeError',
      code: 'OAUTH_STEP_UP_REQUIRED',
      message: 'The API needs a stronger or more recent sign-in.',
      challenge: { error: 'insufficient_user_authentication', acr_values: 'urn:test:mfa' },
    });
    const start = await agent.get(call('/acr/urn:test:mfa')).set('Accept', HTML).expect(302);
    expect(authorizeParams(start.headers.location as string)).toMatchObject({ acr_values: 'urn:test:mfa', prompt: 'login', scope: 'openid profile email' });
    expect(await completeLogin(agent, start.headers.location as string, jar)).toBe(call('/acr/urn:test:mfa'));
    expect((await agent.get(call('/acr/urn:test:mfa')).set('Accept', HTML).expect(200)).body).toEqual({ sub: 'alice', scope: 'openid profile email', acr: 'urn:test:mfa' });
    expect(rs.seen.map((s) => s.outcome)).toEqual(['insufficient_user_authentication', 'insufficient_user_authentication', 'ok']);
  });

  it('should answer 403 instead of looping when the provider cannot give that acr', async () => {
    const { agent, jar } = await loggedIn();
    const start = await agent.get(call('/acr/urn:test:hardware')).set('Accept', HTML).expect(302);
    await completeLogin(agent, start.headers.location as string, jar);
    await agent.get(call('/acr/urn:test:hardware')).set('Accept', HTML).expect(403);
    expect((await as.tokenRequests()).map((r) => r.grantType)).toEqual(['authorization_code']);
  });

  it('should log in again with max_age and not again right after that login', async () => {
    const { agent, jar } = await loggedIn();
    rs.setFreshAfter(Number.MAX_SAFE_INTEGER);
    const start = await agent.get(call('/fresh')).set('Accept', HTML).expect(302);
    expect(authorizeParams(start.headers.location as string)).toMatchObject({ max_age: '0' });
    await completeLogin(agent, start.headers.location as string, jar);
    await agent.get(call('/fresh')).set('Accept', HTML).expect(403);
    rs.setFreshAfter(0);
    expect((await agent.get(call('/fresh')).set('Accept', HTML).expect(200)).body.sub).toBe('alice');
  });
});

describe('resource_metadata (RFC 9728 §5.1)', () => {
  it('should read the metadata once and, when it names this resource and provider, answer the challenge', async () => {
    const { agent } = await loggedIn();
    const reads = rs.metadataReads();
    rs.setMetadata({ resource: rs.url, authorization_servers: [as.issuer] });
    for (let i = 0; i < 2; i++) {
      const res = await agent.get(call('/scope/api:write')).set('Accept', 'application/json').expect(403);
      expect(res.body.code).toBe('OAUTH_INSUFFICIENT_SCOPE');
    }
    expect(rs.metadataReads() - reads).toBe(1);
    expect(rs.seen.map((s) => s.outcome)).toEqual(['insufficient_scope', 'insufficient_scope']);
  });

  it.each([
    ['another resource', () => ({ resource: 'https://elsewhere.example', authorization_servers: [as.issuer] }), 'names the resource "https://elsewhere.example", not one of RS'],
    ['another authorization server', () => ({ resource: rs.url, authorization_servers: ['https://evil.example'] }), "does not list the provider's issuer AS in authorization_servers"],
  ])('should refuse to send the token again when the metadata names %s (502)', async (_name, doc, why) => {
    const { agent } = await loggedIn();
    rs.setMetadata(doc());
    const reads = rs.metadataReads();
    // The error handler shows people a generic text (502: not exposed) ...
    const shown = await agent.get(call('/scope/api:write')).set('Accept', 'application/json').expect(502);
    expect(shown.body).toEqual({ error: 'OAuthError', code: 'OAUTH_RESOURCE_METADATA_MISMATCH', message: 'The sign-in service failed; try again.' });
    // ... the app's own catch gets the reason; this call never reached the API: the refusal is remembered.
    const raw = await agent.get(`${call('/scope/api:write')}&raw=1`).expect(502);
    expect(raw.body).toEqual({
      code: 'OAUTH_RESOURCE_METADATA_MISMATCH',
      message: `The protected resource metadata at ${rs.url}/.well-known/oauth-protected-resource ${why.replace('RS', rs.url).replace('AS', as.issuer)}; the access token is not sent to that API.`,
    });
    expect(rs.seen.map((s) => s.outcome)).toEqual(['insufficient_scope']);
    expect(rs.metadataReads() - reads).toBe(1);
  });
});
