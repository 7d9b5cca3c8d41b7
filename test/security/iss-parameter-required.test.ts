import { oauthMiddleware } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { expectRejected, startedLogin } from './helpers';

// RFC 9207 §2.4: when the AS promises `iss` on every authorization response, a callback without
// it is refused, also when the endpoints are configured explicitly (no discovery document read).
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer();
});
afterAll(() => as.stop());
beforeEach(() => as.clearRequests());

function withoutIss(callbackUrl: string): string {
  const url = new URL(callbackUrl);
  url.searchParams.delete('iss');
  return `${url.pathname}${url.search}`;
}

describe('iss required with explicit endpoints', () => {
  it('should refuse a callback without iss when authorizationResponseIssParameterSupported is true (0 token requests)', async () => {
    const { agent, flow, iss } = await startedLogin(as, { authorizationResponseIssParameterSupported: true });
    expect(iss).toBe(as.issuer);
    await expectRejected(as, agent, withoutIss(flow.callbackUrl), 400, 'OAUTH_MIX_UP');
  });

  it('should accept the same callback with its iss', async () => {
    const { agent, flow } = await startedLogin(as, { authorizationResponseIssParameterSupported: true });
    const url = new URL(flow.callbackUrl);
    const res = await agent.get(`${url.pathname}${url.search}`);
    expect([res.status, res.headers.location]).toEqual([303, '/']);
    expect((await as.tokenRequests()).map((r) => r.grantType)).toEqual(['authorization_code']);
  });

  it('should accept a callback without iss when the option is absent and nothing was discovered', async () => {
    const { agent, flow } = await startedLogin(as);
    const res = await agent.get(withoutIss(flow.callbackUrl));
    expect([res.status, res.headers.location]).toEqual([303, '/']);
  });

  it('should refuse the option without an issuer at startup', () => {
    const { issuer: _issuer, ...options } = as.providerOptions({ authorizationResponseIssParameterSupported: true });
    expect(() => oauthMiddleware(options)).toThrow('oauthMiddleware: `authorizationResponseIssParameterSupported` needs `issuer` (the value `iss` must equal)');
  });
});
