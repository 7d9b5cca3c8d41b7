import request from 'supertest';
import { expireAccessToken } from 'express-oauth2-session/testing';
import { OutboundTransport } from '../../lib/client/transport';
import { ProviderLink } from '../../lib/client/provider-link';
import { Refresher } from '../../lib/client/refresh';
import { TokenEvents } from '../../lib/client/token-events';
import { resolveConfig } from '../../lib/config/resolve';
import { OAuthEventEmitter } from '../../lib/events';
import type { RefreshLock } from '../../lib/session/lock';
import { loadStoredLoginSession } from '../../lib/session/login-session';
import { readRecord } from '../../lib/session/token-record';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { FaultyStore } from '../support/faulty-store';
import { gatedEndpoint } from '../support/gated-endpoint';
import { login } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Issue 22 item 2: a refresh never loses a rotated refresh token. The test AS rotates refresh
// tokens and revokes the whole grant when an old one is replayed, so losing the rotated token
// (or spending the old one twice) shows up as a logout.
let as: TestAuthorizationServer;
let gate: Awaited<ReturnType<typeof gatedEndpoint>>;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
  gate = await gatedEndpoint(as.endpoints.token);
});
afterAll(async () => {
  await gate?.close();
  await as?.stop();
});

const refreshCalls = async () => (await as.tokenRequests('refresh_token')).map((r) => r.status);

async function loggedIn(store: FaultyStore) {
  const test = createTestApp({ store, oauth: providerOptions(as, { tokenUrl: gate.url }) });
  const agent = request.agent(test.app);
  await login(agent);
  const sessionId = (await agent.get('/session')).body.sessionId as string;
  const key = `${sessionId}:oauth:default`;
  return { ...test, agent, sessionId, key, record: async () => (await readRecord(store, key, 2000))! };
}

describe('a refresh result whose write fails', () => {
  it('should serve the request with the new tokens, keep them until the store takes them, and never spend the old refresh token again', async () => {
    const store = new FaultyStore();
    const { agent, sessionId, record, oauth } = await loggedIn(store);
    const before = await record();
    await expireAccessToken(store, sessionId);
    await as.clearRequests();

    // The provider has answered (the refresh token is rotated) when the store starts failing.
    const hold = gate.hold();
    const first = agent
      .get('/me')
      .set('accept', 'application/json')
      .then((res) => res);
    await hold.arrived;
    store.fail('set');
    hold.release();
    const res = await first;
    expect([res.status, res.body.sub]).toEqual([200, 'alice']);

    // Still failing: the next request uses the result held in memory, no second token call.
    expect((await agent.get('/me').set('accept', 'application/json')).status).toBe(200);
    expect(await refreshCalls()).toEqual([200]);

    // The store recovers: the background retry writes the rotated tokens (close() awaits it).
    store.heal();
    await oauth.close();
    const written = await record();
    expect(written.v).toBe(before.v + 2); // expireAccessToken wrote v + 1; the refresh v + 2
    expect(written.tokens.refreshToken).toBe(gate.answers.at(-1)!.refresh_token);
    expect(written.tokens.refreshToken).not.toBe(before.tokens.refreshToken);

    // The next refresh spends the rotated token: the login lives on.
    await expireAccessToken(store, sessionId);
    expect((await agent.get('/me').set('accept', 'application/json')).status).toBe(200);
    expect(await refreshCalls()).toEqual([200, 200]);
  });
});

/** A lock whose leases lapse after their TTL unless extended (what Redis does), in memory. */
function expiringLock() {
  const held = new Map<string, { owner: symbol; until: number }>();
  const waiters: Array<() => void> = [];
  const free = (key: string) => (held.get(key)?.until ?? 0) <= Date.now();
  const lock: RefreshLock = {
    async acquire(key, ttlMs) {
      if (!free(key)) return undefined;
      const owner = Symbol(key);
      held.set(key, { owner, until: Date.now() + ttlMs });
      const mine = () => held.get(key)?.owner === owner && !free(key);
      return {
        async extend(ms) {
          if (!mine()) return false;
          held.set(key, { owner, until: Date.now() + ms });
          waiters.splice(0).forEach((wake) => wake());
          return true;
        },
        isHeld: async () => mine(),
        async release() {
          if (held.get(key)?.owner === owner) held.delete(key);
        },
      };
    },
    async waitForRelease(key, maxWaitMs) {
      const end = Date.now() + maxWaitMs;
      while (!free(key) && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 5));
    },
  };
  return { lock, extended: () => new Promise<void>((resolve) => waiters.push(resolve)) };
}

describe('a provider slower than the refresh lease', () => {
  it('should keep the lease while the refresh runs, so a second process waits and reuses the result (one token call)', async () => {
    const store = new FaultyStore();
    const { sessionId } = await loggedIn(store);
    await expireAccessToken(store, sessionId);
    await as.clearRequests();

    // Two "processes": two refreshers with their own provider links, one store, one lock; 60 ms leases.
    const config = resolveConfig(providerOptions(as, { tokenUrl: gate.url }));
    const { lock, extended } = expiringLock();
    const process = () => {
      const link = new ProviderLink(config.providers.get('default')!, new OutboundTransport(), 2000);
      const refresher = new Refresher({ lock, timeoutMs: 2000, leaseMs: 60, idpLogout: false, announce: new TokenEvents(new OAuthEventEmitter(), undefined) });
      return { link, refresher };
    };
    const [one, two] = [process(), process()];
    const sessionOne = (await loadStoredLoginSession(store, sessionId, 2000))!;
    const sessionTwo = (await loadStoredLoginSession(store, sessionId, 2000))!;
    const expired = (await sessionOne.readTokens('default'))!;

    const hold = gate.hold();
    const first = one.refresher.ensureFresh({ session: sessionOne, link: one.link }, expired);
    await hold.arrived;
    const second = two.refresher.ensureFresh({ session: sessionTwo, link: two.link }, expired);
    // Five extensions: well past the 60 ms the lease would have lasted on its own.
    for (let i = 0; i < 5; i += 1) await extended();
    hold.release();
    const [a, b] = await Promise.all([first, second]);

    expect(b.tokens.accessToken).toBe(a.tokens.accessToken);
    expect(a.tokens.refreshToken).toBe(gate.answers.at(-1)!.refresh_token);
    expect(await refreshCalls()).toEqual([200]);
    expect((await sessionOne.readTokens('default'))!.v).toBe(expired.v + 1);
  });
});
