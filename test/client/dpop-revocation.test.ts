import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { TokensEvent } from 'express-oauth2-session';
import { readRecord } from '../../lib/session/token-record';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { authorize, login, pathOf } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Every site that ends a login revokes its tokens through the one token lifecycle; with `dpop`
// each revocation carries a proof of the login's key. The test AS refuses to revoke a DPoP-bound
// token without one (lib/testing/harness-hooks.mjs), so a missing proof shows as a 400 here and
// as a token that is still active.
let as: TestAuthorizationServer;
let failing: http.Server;
let failingUrl: string;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
  failing = http.createServer((_req, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('down'));
  await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
  failingUrl = `http://127.0.0.1:${(failing.address() as AddressInfo).port}/userinfo`;
});
afterAll(async () => {
  await new Promise((resolve) => failing?.close(resolve));
  await as?.stop();
});

async function revocations() {
  return (await as.requests()).filter((r) => r.endpoint === '/token/revocation').map((r) => ({ status: r.status, dpop: r.dpop, error: r.error }));
}

function dpopApp(extra: Record<string, unknown> = {}) {
  const events: TokensEvent[] = [];
  const test = createTestApp({ oauth: { ...providerOptions(as, { dpop: true, ...extra }), onTokens: (e) => void events.push(e) } });
  return { ...test, events };
}

async function loggedIn(extra: Record<string, unknown> = {}) {
  const test = dpopApp(extra);
  const agent = request.agent(test.app);
  await login(agent);
  const sessionId = (await agent.get('/session')).body.sessionId as string;
  const record = (await readRecord(test.store, `${sessionId}:oauth:default`, 2000))!;
  expect(record.tokens.tokenType).toBe('dpop');
  await as.clearRequests();
  return { ...test, agent, sessionId, record };
}

describe('revoking DPoP-bound tokens', () => {
  it('should revoke both tokens with a proof at logout (the AS accepts, the tokens are inactive)', async () => {
    const { agent, record } = await loggedIn();
    await agent.post('/logout').expect(303);
    expect(await revocations()).toEqual([
      { status: 200, dpop: true, error: undefined },
      { status: 200, dpop: true, error: undefined },
    ]);
    expect(await as.introspect(record.tokens.accessToken)).toBe(false);
    expect(await as.introspect(record.tokens.refreshToken!)).toBe(false);
  });

  // Another user: the same user's new login in the same provider session continues the grant and is not revoked (relogin-revocation.test.ts).
  it('should revoke the replaced login with a proof of its own key when another user logs in', async () => {
    const { agent, record, sessionId } = await loggedIn();
    await login(agent, { user: 'bob' });
    expect(await revocations()).toEqual([
      { status: 200, dpop: true, error: undefined },
      { status: 200, dpop: true, error: undefined },
    ]);
    expect(await as.introspect(record.tokens.accessToken)).toBe(false);
    expect((await agent.get('/session')).body.sessionId).not.toBe(sessionId);
  });

  it('should revoke the new tokens with a proof when the callback fails after the code exchange', async () => {
    const test = dpopApp({ fetchUserInfo: true, userinfoUrl: failingUrl });
    const agent = request.agent(test.app);
    const { callbackUrl } = await authorize(agent);
    await as.clearRequests();
    await agent.get(pathOf(callbackUrl)).expect(502);
    expect(await revocations()).toEqual([
      { status: 200, dpop: true, error: undefined },
      { status: 200, dpop: true, error: undefined },
    ]);
    expect(test.events).toEqual([]);
  });

  it('should send UserInfo at login with a proof, so fetchUserInfo works with DPoP-bound tokens', async () => {
    const { agent } = await loggedIn({ fetchUserInfo: true });
    expect((await agent.get('/session')).body.user).toMatchObject({ sub: 'alice', email: 'alice@example.test' });
  });
});

describe('onTokens when a login ends', () => {
  it("should announce reason 'logout' once when the token record went missing from the store", async () => {
    const { agent, store, sessionId, events } = await loggedIn();
    events.length = 0;
    await new Promise<void>((resolve, reject) => store.destroy(`${sessionId}:oauth:default`, (err) => (err ? reject(err) : resolve())));
    await agent.get('/me').set('accept', 'application/json').expect(401);
    expect(events).toEqual([{ sessionId, provider: 'default', tokens: undefined, previous: undefined, reason: 'logout' }]);
    expect((await agent.get('/session')).body.authenticated).toBe(false);
  });

  it("should announce reason 'logout' once at logout, with the tokens that ended", async () => {
    const { agent, sessionId, events, record } = await loggedIn();
    events.length = 0;
    await agent.post('/logout').expect(303);
    expect(events.map((e) => [e.sessionId, e.reason, e.tokens, e.previous?.accessToken])).toEqual([[sessionId, 'logout', undefined, record.tokens.accessToken]]);
  });
});
