import type { IncomingMessage, ServerResponse } from 'node:http';
import request from 'supertest';
import { authorizeWithoutBrowser } from 'express-oauth2-session/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '../../support/authorization-server';
import { startChallengeResourceServer, type ChallengeResourceServer } from '../../support/challenge-resource-server';
import { createConnectApp, type Req } from '../../support/connect-app';
import { authorize, pathOf } from '../../support/login-flow';
import { providerOptions, REDIRECT_URI } from '../../support/test-app';

// An API's challenges on plain Connect: the error handler's incremental / step-up login and 403 JSON.
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

const HTML = 'text/html,application/xhtml+xml,*/*;q=0.8';

async function loggedIn() {
  const { app } = createConnectApp({
    oauth: providerOptions(as, { apiBaseUrl: rs.url }),
    routes: (a) =>
      a.use('/call', (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => {
        const path = new URL(req.url ?? '/', 'http://x').searchParams.get('path') ?? '/';
        (req as Req).oauth
          .get(path)
          .then(async (r) => {
            res.statusCode = r.status;
            res.setHeader('content-type', 'application/json');
            res.end(JSON.stringify(await r.json()));
          })
          .catch(next);
      }),
  });
  const agent = request.agent(app);
  const { callbackUrl, jar } = await authorize(agent, { user: 'alice' });
  await agent.get(pathOf(callbackUrl)).expect(303);
  return { agent, jar };
}

describe('API challenges on plain Connect', () => {
  it('should answer a program 403 JSON with the challenge', async () => {
    const { agent } = await loggedIn();
    const res = await agent.get('/call?path=/scope/api:write').set('Accept', 'application/json').expect(403);
    expect(res.body).toEqual({
      error: 'ApiChallengeError',
      code: 'OAUTH_INSUFFICIENT_SCOPE',
      message: 'The API needs more access (api:write).',
      challenge: { error: 'insufficient_scope', scope: 'api:write' },
    });
  });

  it('should step up a page load (acr_values) and return to the same page, where the API accepts the token', async () => {
    const { agent, jar } = await loggedIn();
    const start = await agent.get('/call?path=/acr/urn:test:mfa').set('Accept', HTML).expect(302);
    expect(new URL(start.headers.location as string).searchParams.get('acr_values')).toBe('urn:test:mfa');
    const { callbackUrl } = await authorizeWithoutBrowser(start.headers.location as string, { user: 'alice', jar });
    expect((await agent.get(pathOf(callbackUrl)).expect(303)).headers.location).toBe('/call?path=/acr/urn:test:mfa');
    const res = await agent.get('/call?path=/acr/urn:test:mfa').set('Accept', HTML).expect(200);
    expect(res.body).toEqual({ sub: 'alice', scope: 'openid profile email', acr: 'urn:test:mfa' });
  });
});
