import request from 'supertest';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { startFlakyMetadata } from '../support/flaky-metadata';
import { createTestApp, REDIRECT_URI } from '../support/test-app';

// A failed discovery is not fetched again on every /login: the failure is answered from the
// cache for 1 s, then 2 s, … up to 60 s while the outage lasts; a success resets it.
let as: TestAuthorizationServer;
let metadata: Awaited<ReturnType<typeof startFlakyMetadata>>;
beforeAll(async () => {
  as = await startAuthorizationServer();
  metadata = await startFlakyMetadata(as);
});
afterAll(() => Promise.all([as.stop(), metadata.stop()]));
afterEach(() => jest.restoreAllMocks());

describe('discovery during an outage', () => {
  it('should make 1 discovery request for 100 logins, retry after 1 s then 2 s, and recover', async () => {
    let offsetMs = 0;
    const frozen = Date.now(); // the clock moves only when the test says so
    jest.spyOn(Date, 'now').mockImplementation(() => frozen + offsetMs);
    const { app } = createTestApp({ oauth: { clientId: 'rp-basic', clientSecret: 'rp-basic-secret', issuer: metadata.issuer, redirectUri: REDIRECT_URI, scope: 'openid' } });
    const loginStatus = async () => {
      const res = await request(app).get('/login').set('Accept', 'application/json');
      return res.status === 302 ? 302 : `${res.status} ${res.body.code}`;
    };

    const during = [];
    for (let i = 0; i < 100; i++) during.push(await loginStatus());
    expect([new Set(during), metadata.requests()]).toEqual([new Set(['503 OAUTH_DISCOVERY_ERROR']), 1]);

    offsetMs += 1000; // the first backoff has passed: one new attempt, which fails (next wait 2 s)
    expect([await loginStatus(), await loginStatus(), metadata.requests()]).toEqual(['503 OAUTH_DISCOVERY_ERROR', '503 OAUTH_DISCOVERY_ERROR', 2]);
    offsetMs += 1000;
    metadata.setDown(false);
    expect([await loginStatus(), metadata.requests()]).toEqual(['503 OAUTH_DISCOVERY_ERROR', 2]);
    offsetMs += 1000; // 2 s after the second failure: recovered, and cached from now on
    const after = [];
    for (let i = 0; i < 10; i++) after.push(await loginStatus());
    expect([new Set(after), metadata.requests()]).toEqual([new Set([302]), 3]);
  });
});
