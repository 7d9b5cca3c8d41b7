import request from 'supertest';
import type express from 'express';
import { authorizeWithoutBrowser, type CookieJar } from 'express-oauth2-session/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { startChallengeResourceServer, type ChallengeResourceServer } from '../support/challenge-resource-server';
import { authorize, pathOf } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';
import { jwtPayload } from '../support/several-apis';

// Challenges from a configured API with its own audience-restricted token (RFC 8707): one
// challenge handler per API, its RFC 9728 metadata checked against that API's `resource`; the
// incremental or step-up login gives the API a new token with what it asked for.
const RESOURCE = 'https://orders.api.test/';
let as: TestAuthorizationServer;
let rs: ChallengeResourceServer;
beforeAll(async () => {
  as = await startAuthorizationServer({
    redirectUris: [REDIRECT_URI],
    accessTokenTTL: 300,
    acrValues: ['urn:test:pwd', 'urn:test:mfa'],
    accessTokenAuthContext: true,
    resourceServers: { [RESOURCE]: { scope: 'orders:read orders:write', accessTokenFormat: 'jwt', accessTokenTTL: 300 } },
  });
  rs = await startChallengeResourceServer({ issuer: as.issuer, audience: RESOURCE });
});
afterAll(async () => {
  await rs.stop();
  await as.stop();
});
beforeEach(async () => {
  await as.clearRequests();
  rs.seen.length = 0;
  rs.setMetadata(undefined);
});

const HTML = 'text/html,application/xhtml+xml,*/*;q=0.8';

/** Logged in as alice; GET /orders?path=… calls the orders API through req.oauth.api('orders'). */
async function loggedIn(orders: Record<string, unknown> = {}) {
  const { app } = createTestApp({
    oauth: { ...providerOptions(as), apis: { orders: { url: `${rs.url}/`, resource: RESOURCE, ...orders } } },
    routes: (a: express.Express) =>
      a.get('/orders', (req, res, next) => {
        req.oauth
          .api('orders')
          .get(String(req.query.path))
          .then(async (r) => res.status(r.status).json(await r.json()))
          .catch((err: { status: number; code: string; message: string }) => (req.query.raw ? res.status(err.status).json({ code: err.code, message: err.message }) : next(err)));
      }),
  });
  const agent = request.agent(app);
  const { callbackUrl, jar } = await authorize(agent, { user: 'alice' });
  await agent.get(pathOf(callbackUrl)).expect(303);
  return { agent, jar };
}

const orders = (path: string) => `/orders?path=${encodeURIComponent(path)}`;

async function completeLogin(agent: request.Agent, location: string, jar: CookieJar): Promise<string> {
  const { callbackUrl } = await authorizeWithoutBrowser(location, { user: 'alice', jar });
  return (await agent.get(pathOf(callbackUrl)).expect(303)).headers.location as string;
}

describe('a configured API with its own token', () => {
  it('should name the API in the 403 JSON and, for a page load, log in for the scope; the API then gets a token with it', async () => {
    const { agent, jar } = await loggedIn();
    const json = await agent.get(orders('/scope/orders:write')).set('Accept', 'application/json').expect(403);
    expect(json.body).toEqual({
      error: 'ApiChallengeError',
      code: 'OAUTH_INSUFFICIENT_SCOPE',
      message: 'The orders API needs more access (orders:write).',
      challenge: { error: 'insufficient_scope', scope: 'orders:write' },
    });
    const start = await agent.get(orders('/scope/orders:write')).set('Accept', HTML).expect(302);
    const asked = new URL(start.headers.location as string).searchParams;
    expect([asked.get('scope'), asked.getAll('resource')]).toEqual(['openid profile email orders:write', [RESOURCE]]);
    expect(await completeLogin(agent, start.headers.location as string, jar)).toBe(orders('/scope/orders:write'));
    const ok = await agent.get(orders('/scope/orders:write')).set('Accept', HTML).expect(200);
    expect(ok.body).toMatchObject({ sub: 'alice' });
    expect(String(ok.body.scope).split(' ')).toContain('orders:write');
    // Every token the API saw was for its audience.
    expect(rs.seen.map((s) => jwtPayload(s.token!).aud)).toEqual([RESOURCE, RESOURCE, RESOURCE]);
  });

  it('should step up for the API (acr_values) and the API token of the new login carries the acr', async () => {
    const { agent, jar } = await loggedIn();
    const start = await agent.get(orders('/acr/urn:test:mfa')).set('Accept', HTML).expect(302);
    expect(new URL(start.headers.location as string).searchParams.get('acr_values')).toBe('urn:test:mfa');
    await completeLogin(agent, start.headers.location as string, jar);
    expect((await agent.get(orders('/acr/urn:test:mfa')).set('Accept', HTML).expect(200)).body.acr).toBe('urn:test:mfa');
  });

  it("should not loop when the API's configured scope keeps the new token from carrying the challenged scope", async () => {
    const { agent, jar } = await loggedIn({ scope: 'orders:read' });
    const start = await agent.get(orders('/scope/orders:write')).set('Accept', HTML).expect(302);
    await completeLogin(agent, start.headers.location as string, jar);
    await agent.get(orders('/scope/orders:write')).set('Accept', HTML).expect(403);
    expect(rs.seen.map((s) => s.outcome)).toEqual(['insufficient_scope', 'insufficient_scope']);
  });

  it("should check RFC 9728 metadata against the API's configured resource", async () => {
    const { agent } = await loggedIn();
    rs.setMetadata({ resource: RESOURCE, authorization_servers: [as.issuer] });
    expect((await agent.get(orders('/scope/orders:write')).set('Accept', 'application/json').expect(403)).body.code).toBe('OAUTH_INSUFFICIENT_SCOPE');
    const other = await loggedIn();
    rs.setMetadata({ resource: `${rs.url}/`, authorization_servers: [as.issuer] });
    const refused = await other.agent.get(`${orders('/scope/orders:write')}&raw=1`).expect(502);
    expect(refused.body).toEqual({
      code: 'OAUTH_RESOURCE_METADATA_MISMATCH',
      message: `The protected resource metadata at ${rs.url}/.well-known/oauth-protected-resource names the resource "${rs.url}/", not "${RESOURCE}"; the access token is not sent to that API.`,
    });
  });
});
