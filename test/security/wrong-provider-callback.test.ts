import request from 'supertest';
import type { TestAuthorizationServer } from '../support/authorization-server';
import { authorize, pathOf } from '../support/login-flow';
import { createTestApp } from '../support/test-app';
import { startTwoClientAs, twoClientProviders } from './helpers';

// Two providers (two clients of one real AS): a callback delivered to the wrong provider's route
// is refused without consuming the other provider's pending login.
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startTwoClientAs();
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

describe('callback delivered to the wrong provider', () => {
  it("should answer 400 and leave the other provider's pending login intact", async () => {
    const { app } = createTestApp({
      oauth: {
        providers: twoClientProviders(as),
      },
    });
    const agent = request.agent(app);
    const { callbackUrl } = await authorize(agent, { loginPath: '/login/a', user: 'alice' });
    const query = new URL(callbackUrl).search;

    const wrong = await agent.get(`/callback/b${query}`).set('Accept', 'application/json');
    expect([wrong.status, wrong.body.code]).toEqual([400, 'OAUTH_INVALID_CALLBACK']);
    expect(await as.tokenRequests()).toEqual([]);

    const right = await agent.get(pathOf(callbackUrl));
    expect([right.status, right.headers.location]).toEqual([303, '/']);
    expect((await agent.get('/session')).body).toMatchObject({ authenticated: true, user: { sub: 'alice' } });
    expect((await as.tokenRequests()).map((r) => [r.clientId, r.grantType])).toEqual([['rp-basic', 'authorization_code']]);
  });
});
