import request from 'supertest';
import { startFapiProvider, type FapiProvider } from '../../support/fapi-provider';
import { createConnectApp } from '../../support/connect-app';
import { authorize, pathOf } from '../../support/login-flow';

// FAPI 2.0 on plain Connect (no Express): the Message Signing profile (PAR with a signed request
// object, a JARM response, private_key_jwt, DPoP) logs in and calls the provider's UserInfo with
// the DPoP-bound token; a forged JARM response is refused with no token request.
let fapi: FapiProvider;
beforeAll(async () => {
  fapi = await startFapiProvider();
});
afterAll(() => fapi?.as.stop());
beforeEach(() => fapi.as.clearRequests());

const seen = async () => (await fapi.as.requests()).map((r) => [r.endpoint, r.clientId, r.authMethod, r.grantType ?? null, r.status]);

describe("profile: 'fapi2-message-signing' on plain Connect", () => {
  it('should log in with JAR + JARM + DPoP and call UserInfo with the bound token', async () => {
    const { app } = createConnectApp({ oauth: fapi.signedOptions() });
    const agent = request.agent(app);
    const { authorizationUrl, callbackUrl } = await authorize(agent);
    expect([...new URL(authorizationUrl).searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect([...new URL(callbackUrl).searchParams.keys()]).toEqual(['response']);
    await agent.get(pathOf(callbackUrl)).expect(303);
    expect((await agent.get('/session')).body.user.sub).toBe('alice');
    expect((await agent.get('/me').set('accept', 'application/json').expect(200)).body.sub).toBe('alice');
    expect(await seen()).toEqual([
      ['/request', 'fapi-signed', 'private_key_jwt', null, 201],
      ['/token', 'fapi-signed', 'private_key_jwt', 'authorization_code', 200],
    ]);
  });

  it('should refuse a JARM response whose signature is broken: 400, no login, no token request', async () => {
    const { app } = createConnectApp({ oauth: fapi.signedOptions() });
    const agent = request.agent(app);
    const { callbackUrl } = await authorize(agent);
    await fapi.as.clearRequests();
    const url = new URL(callbackUrl);
    const jwt = url.searchParams.get('response')!;
    url.searchParams.set('response', `${jwt.slice(0, -4)}${jwt.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`);
    const res = await agent.get(pathOf(url.toString())).set('accept', 'application/json');
    expect([res.status, res.body.code]).toEqual([400, 'OAUTH_INVALID_CALLBACK']);
    expect((await agent.get('/session')).body.authenticated).toBe(false);
    expect(await seen()).toEqual([]);
  });
});
