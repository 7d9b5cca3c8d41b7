import http from 'node:http';
import request from 'supertest';
import { providers, type OAuthMiddlewareOptions, type TokenSet } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { login } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// POST /logout against the real AS: RFC 7009 revocation (refresh token first), the revoked token
// refused by the AS, RP-initiated logout from discovery (idpLogout), revocation failures. CSRF and the GET
// confirmation form: test/security/logout.test.ts; the provider round trip: test/http/idp-logout.test.ts.
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());

const introspect = (token: string) => as.introspect(token);

async function userinfoStatus(accessToken: string): Promise<number> {
  return (await fetch(as.endpoints.userinfo, { headers: { authorization: `Bearer ${accessToken}` } })).status;
}

/** Forwards to the AS's revocation endpoint and records each form body, in order. */
async function recordingProxy(target: string) {
  const seen: URLSearchParams[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', async () => {
      seen.push(new URLSearchParams(raw));
      const headers: Record<string, string> = { 'content-type': String(req.headers['content-type']) };
      if (req.headers.authorization) headers.authorization = req.headers.authorization;
      const upstream = await fetch(target, { method: 'POST', headers, body: raw });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' }).end(await upstream.text());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/revoke`, seen, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

async function loggedIn(oauth: OAuthMiddlewareOptions) {
  const tokens: Array<Readonly<TokenSet>> = [];
  const test = createTestApp({ oauth: { ...oauth, onTokens: (e) => void (e.tokens && tokens.push(e.tokens)) } as OAuthMiddlewareOptions });
  const agent = request.agent(test.app);
  await login(agent);
  await as.clearRequests();
  const sid = (await agent.get('/session')).body.sessionId as string;
  return { ...test, agent, sid, tokens: tokens[0] as Required<TokenSet> };
}

describe('POST /logout with revocation', () => {
  it('should revoke both tokens so the AS refuses them, the access token at userinfo included', async () => {
    const { agent, tokens } = await loggedIn(providerOptions(as, { clientId: 'rp-post' }));
    expect(await userinfoStatus(tokens.accessToken)).toBe(200);
    expect((await agent.post('/logout').expect(303)).headers.location).toBe('/');
    expect((await as.requests()).map((r) => [r.endpoint, r.clientId, r.authMethod, r.status])).toEqual([
      ['/token/revocation', 'rp-post', 'client_secret_post', 200],
      ['/token/revocation', 'rp-post', 'client_secret_post', 200],
    ]);
    expect(await userinfoStatus(tokens.accessToken)).toBe(401);
    expect([await introspect(tokens.accessToken), await introspect(tokens.refreshToken)]).toEqual([false, false]);
  });

  it('should revoke the refresh token first, then the access token, each with its type hint', async () => {
    const proxy = await recordingProxy(as.endpoints.revocation);
    try {
      const { agent, tokens } = await loggedIn(providerOptions(as, { clientId: 'rp-post', revocationUrl: proxy.url }));
      await agent.post('/logout').expect(303);
      expect(proxy.seen.map((f) => [f.get('token_type_hint'), f.get('token')])).toEqual([
        ['refresh_token', tokens.refreshToken],
        ['access_token', tokens.accessToken],
      ]);
      expect((await as.requests()).map((r) => [r.endpoint, r.status])).toEqual([
        ['/token/revocation', 200],
        ['/token/revocation', 200],
      ]);
      expect([await introspect(tokens.refreshToken), await introspect(tokens.accessToken)]).toEqual([false, false]);
    } finally {
      await proxy.stop();
    }
  });

  it('should complete the logout when every revocation fails: 303, token record and session gone, errors reported as events', async () => {
    const { agent, store, sid, oauth } = await loggedIn(providerOptions(as));
    const errors: unknown[] = [];
    oauth.events.on('error', (e) => void errors.push(e));
    await as.failNext({ path: '/token/revocation', status: 503, body: { error: 'temporarily_unavailable' }, count: 2 });
    expect((await agent.post('/logout?returnTo=%2Fbye').expect(303)).headers.location).toBe('/bye');
    const record = await new Promise((resolve) => store.get(`${sid}:oauth:default`, (_err, value) => resolve(value)));
    const oldSession = await new Promise((resolve) => store.get(sid, (_err, value) => resolve(value)));
    expect([record, oldSession]).toEqual([undefined, undefined]);
    expect((await agent.get('/session')).body.authenticated).toBe(false);
    expect(errors).toEqual([
      { provider: 'default', code: 'OAUTH_TOKEN_ENDPOINT_ERROR', status: 502 },
      { provider: 'default', code: 'OAUTH_TOKEN_ENDPOINT_ERROR', status: 502 },
    ]);
  });
});

describe('providers.oidc({ issuer }): logout from discovery', () => {
  const oidc = () => ({ ...providers.oidc({ issuer: as.issuer }), clientId: 'rp-basic', clientSecret: 'rp-basic-secret', redirectUri: REDIRECT_URI, scope: ['openid'] });

  it('should log out locally by default (no idpLogout), though discovery gives an end-session endpoint', async () => {
    const { agent } = await loggedIn(oidc());
    expect((await agent.post('/logout').expect(303)).headers.location).toBe('/');
    expect((await as.requests()).map((r) => [r.endpoint, r.status])).toEqual([
      ['/token/revocation', 200],
      ['/token/revocation', 200],
    ]);
  });

  it('should revoke at the discovered endpoint and, with idpLogout, redirect to the discovered end-session URL with the stored ID token as hint', async () => {
    const { agent, tokens } = await loggedIn({ ...oidc(), idpLogout: true });
    expect(tokens.idToken.split('.')).toHaveLength(3);
    const res = await agent.post('/logout').expect(303);
    const expected = new URL(as.endpoints.endSession);
    expected.searchParams.set('id_token_hint', tokens.idToken);
    expected.searchParams.set('client_id', 'rp-basic');
    expected.searchParams.set('post_logout_redirect_uri', 'http://127.0.0.1:3000/');
    expect(res.headers.location).toBe(expected.toString());
    expect((await as.requests()).map((r) => [r.endpoint, r.status])).toEqual([
      ['/token/revocation', 200],
      ['/token/revocation', 200],
    ]);
    const endSession = await fetch(res.headers.location as string, { redirect: 'manual' });
    expect(endSession.status).toBe(200); // the AS accepts the hint and the redirect URI (no AS session here: it confirms by itself)
    expect(await endSession.text()).toContain(`<form method="post" action="${as.issuer}/session/end/confirm">`);
  });
});
