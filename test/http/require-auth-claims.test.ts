import request from 'supertest';
import type express from 'express';
import { requireAuth, type RequireAuthOptions } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { login } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Issue 14 item 7: requireAuth({ claims }) over req.oauth.user (here with fetchUserInfo: the test
// provider's ID tokens carry only sub; alice's email is verified, bob's is not).
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());

const HTML = 'text/html,application/xhtml+xml,*/*;q=0.8';
const FORBIDDEN_PAGE = '<!doctype html><meta charset="utf-8"><title>Forbidden</title><h1>Forbidden</h1><p>Your account does not have access to this page.</p>';

async function agentFor(user: string, rules: RequireAuthOptions) {
  const { app } = createTestApp({
    oauth: providerOptions(as, { fetchUserInfo: true }),
    routes: (a: express.Express) => a.get('/verified', requireAuth(rules), (req, res) => res.json({ email: req.oauth.user?.email })),
  });
  const agent = request.agent(app);
  await login(agent, { user });
  return agent;
}

describe('requireAuth({ claims })', () => {
  it('should let a user with the claim values through', async () => {
    const agent = await agentFor('alice', { claims: { email_verified: true } });
    expect((await agent.get('/verified').expect(200)).body).toEqual({ email: 'alice@example.test' });
  });

  it('should answer 403 JSON to an API request of a user without them', async () => {
    const agent = await agentFor('bob', { claims: { email_verified: true } });
    const res = await agent.get('/verified').set('Accept', 'application/json').expect(403);
    expect(res.body).toEqual({ error: 'forbidden', code: 'OAUTH_CLAIMS_UNMET' });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('should answer a 403 page to an HTML GET, and no body to HEAD', async () => {
    const agent = await agentFor('bob', { claims: { email_verified: true } });
    const res = await agent.get('/verified').set('Accept', HTML).expect(403);
    expect(res.text).toBe(FORBIDDEN_PAGE);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const head = await agent.head('/verified').set('Accept', HTML).expect(403);
    expect(head.text).toBeUndefined();
  });

  it('should apply a predicate over req.oauth.user', async () => {
    const rules: RequireAuthOptions = { claims: (user) => user.email === 'alice@example.test' };
    await (await agentFor('alice', rules)).get('/verified').expect(200);
    await (await agentFor('bob', rules)).get('/verified').expect(403);
  });

  it('should still send a logged-out HTML GET to login first', async () => {
    const { app } = createTestApp({
      oauth: providerOptions(as),
      routes: (a: express.Express) => a.get('/verified', requireAuth({ claims: { email_verified: true } }), (_req, res) => res.end()),
    });
    const res = await request(app).get('/verified').set('Accept', HTML).expect(302);
    expect(res.headers.location).toBe('/login?returnTo=%2Fverified');
  });
});
