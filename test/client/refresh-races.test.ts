import http from 'node:http';
import session from 'express-session';
import request from 'supertest';
import { expireAccessToken } from 'express-oauth2-session/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { login, sessionCookie } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

/**
 * A token endpoint in front of the real one that, on its first request, lets `beforeAnswer` run
 * (another worker's refresh) and then rejects with invalid_grant: what an AS answers the loser of
 * a rotation race. (oidc-provider would also revoke the grant; ASes with a reuse grace window do
 * not, and the loser must recover either way the record says so.)
 */
async function losingTokenEndpoint(beforeAnswer: () => Promise<void>) {
  let hits = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', async () => {
      hits += 1;
      await beforeAnswer();
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_grant' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/token`,
    hits: () => hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A logged-in agent (MemoryStore) whose access token is already expired. */
async function loggedInWithExpiredToken() {
  const store = new session.MemoryStore();
  const { app, oauth } = createTestApp({ store, oauth: providerOptions(as) });
  const agent = request.agent(app);
  await login(agent);
  const sid = (await agent.get('/session')).body.sessionId as string;
  await expireAccessToken(store, sid);
  return { agent, oauth, sid, store };
}

describe('rotation races', () => {
  it("should let the late loser of a refresh race adopt the winner's tokens instead of logging the user out", async () => {
    const store = new session.MemoryStore();
    const winner = createTestApp({ store, oauth: providerOptions(as) });
    const winnerAgent = request.agent(winner.app);
    const cookie = sessionCookie(await login(winnerAgent));
    const sid = (await winnerAgent.get('/session')).body.sessionId as string;
    await expireAccessToken(store, sid);
    await as.clearRequests();

    // Worker B ("another process": its own middleware instance, same store, no shared lock).
    const endpoint = await losingTokenEndpoint(async () => {
      await winnerAgent.get('/me').expect(200); // worker A refreshes meanwhile and stores the rotated tokens
    });
    const loser = createTestApp({ store, oauth: providerOptions(as, { tokenUrl: endpoint.url }) });
    const lost: string[] = [];
    loser.oauth.events.on('refresh-race-lost', ({ provider }) => lost.push(provider));
    const logouts: string[] = [];
    loser.oauth.events.on('logout', ({ reason }) => logouts.push(reason));
    try {
      const res = await request(loser.app).get('/me').set('Cookie', cookie).expect(200);
      expect(res.body.sub).toBe('alice');
      expect(endpoint.hits()).toBe(1);
      expect(lost).toEqual(['default']);
      expect(logouts).toEqual([]);
      expect((await as.tokenRequests()).map((r) => [r.grantType, r.status])).toEqual([['refresh_token', 200]]);
      expect((await request(loser.app).get('/session').set('Cookie', cookie)).body.authenticated).toBe(true);
    } finally {
      await endpoint.close();
    }
  });

  it('should end the login when the refresh token is rejected and nobody else refreshed', async () => {
    const { agent, oauth } = await loggedInWithExpiredToken();
    const logouts: string[] = [];
    oauth.events.on('logout', ({ reason }) => logouts.push(reason));
    await as.failNext({ path: '/token', status: 400, body: { error: 'invalid_grant' } });

    const api = await agent.get('/me').set('Accept', 'application/json');
    expect(api.status).toBe(401);
    expect(api.body).toEqual({ error: 'unauthorized', code: 'OAUTH_REAUTHENTICATION_REQUIRED' });
    expect(logouts).toEqual(['refresh-rejected']);
    expect((await agent.get('/session')).body.authenticated).toBe(false);
    const page = await agent.get('/me?tab=2').set('Accept', 'text/html').expect(302);
    expect(page.headers.location).toBe('/login?returnTo=%2Fme%3Ftab%3D2');
    // The injected invalid_grant is not in the AS log; no real refresh may follow it (no retry loop).
    expect(await as.tokenRequests('refresh_token')).toEqual([]);
  });
});

describe('forSession (jobs outside a request)', () => {
  it('should call the API with the stored token and refresh it once when expired, sharing the record with requests', async () => {
    const { agent, oauth, sid } = await loggedInWithExpiredToken();
    await as.clearRequests();

    const job = await oauth.forSession(sid);
    expect(job.isAuthenticated()).toBe(true);
    const me = await job.get('/me');
    expect(me.status).toBe(200);
    expect(((await me.json()) as { sub: string }).sub).toBe('alice');

    await agent.get('/me').expect(200); // the request sees the job's rotated token: no second refresh
    expect((await as.tokenRequests()).map((r) => r.grantType)).toEqual(['refresh_token']);
  });

  it('should reject an unknown session id with NOT_AUTHENTICATED', async () => {
    const store = new session.MemoryStore();
    const { oauth } = createTestApp({ store, oauth: providerOptions(as) });
    await expect(oauth.forSession('no-such-session', { store })).rejects.toMatchObject({ code: 'OAUTH_NOT_AUTHENTICATED', status: 401 });
  });
});
