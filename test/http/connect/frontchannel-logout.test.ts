import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { CookieJar, endSessionWithoutBrowser, loginWithoutBrowser } from 'express-oauth2-session/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '../../support/authorization-server';
import { createConnectApp } from '../../support/connect-app';
import { providerOptions, REDIRECT_URI } from '../../support/test-app';

// Front-channel logout on plain Connect: the test kit's provider frames the app's
// /frontchannel-logout after the user confirms the logout there; the session ends.
let as: TestAuthorizationServer;
let server: http.Server;
let test: ReturnType<typeof createConnectApp>;

beforeAll(async () => {
  server = http.createServer((req, res) => test.app(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = {
    client_id: 'rp-fcl',
    client_secret: 'rp-fcl-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [REDIRECT_URI],
    frontchannel_logout_uri: `${origin}/frontchannel-logout`,
    frontchannel_logout_session_required: true,
  };
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300, extraClients: [client] });
  test = createConnectApp({ oauth: { ...providerOptions(as, { clientId: 'rp-fcl' }), frontchannelLogout: true } });
});
afterAll(async () => {
  await as.stop();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});

describe('frontchannelLogout on plain Connect', () => {
  it('should end the login when the provider frames the front-channel logout URI at logout', async () => {
    const jar = new CookieJar();
    const agent = request.agent(test.app);
    expect((await loginWithoutBrowser(agent, { jar })).status).toBe(303);
    expect((await agent.get('/session')).body.authenticated).toBe(true);
    const { frontchannelLogout } = await endSessionWithoutBrowser(`${as.endpoints.endSession}?client_id=rp-fcl`, { jar });
    expect(frontchannelLogout.map((f) => [new URL(f.url).pathname, f.status])).toEqual([['/frontchannel-logout', 200]]);
    expect((await agent.get('/session')).body.authenticated).toBe(false);
  });
});
