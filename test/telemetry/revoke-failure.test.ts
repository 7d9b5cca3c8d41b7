import http from 'node:http';
import { SpanStatusCode } from '@opentelemetry/api';
import request from 'supertest';
import type { TokenSet } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { login } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';
import { installTelemetry, pointsOf, type InstalledTelemetry } from '../support/telemetry';

// Issue 23 item 4: a revocation that fails at logout (the endpoint answers 5xx, or cannot be
// reached) fails the `oauth2.revoke` span, with the error code and no token, while the logout
// itself completes as before. The 5xx comes from the real provider's fault injection; "cannot be
// reached" is a port that was bound and closed again (nothing listens there).
let as: TestAuthorizationServer;
let otel: InstalledTelemetry;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());
beforeEach(() => {
  otel = installTelemetry();
});
afterEach(() => otel.uninstall());

/** An http URL on a loopback port nothing listens on (bound by the OS, then closed). */
async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/revoke`;
}

async function loggedIn(overrides: Record<string, unknown> = {}) {
  const issued: TokenSet[] = [];
  const errors: unknown[] = [];
  const test = createTestApp({ oauth: { ...providerOptions(as, overrides), onTokens: (e) => void (e.tokens && issued.push(e.tokens)) } });
  test.oauth.events.on('error', (e) => void errors.push(e));
  const agent = request.agent(test.app);
  await login(agent);
  const [tokens] = issued;
  return { agent, errors, tokens: tokens as Required<TokenSet> };
}

/** Every exported span attribute value holding one of `tokens`' values. */
function tokenLeaks(tokens: Required<TokenSet>): string[] {
  const secrets = [tokens.accessToken, tokens.refreshToken, tokens.idToken];
  expect(secrets.every((s) => typeof s === 'string' && s.length >= 16)).toBe(true);
  return otel
    .spans()
    .flatMap((s) => [s.name, s.status.message ?? '', ...Object.values(s.attributes).map(String)])
    .filter((v) => secrets.some((secret) => v.includes(secret)));
}

describe('telemetry of a failed revocation at logout', () => {
  it('should fail the oauth2.revoke span (error.type) when the revocation endpoint answers 503, and still log out', async () => {
    const { agent, errors, tokens } = await loggedIn();
    await as.failNext({ path: '/token/revocation', status: 503, body: { error: 'temporarily_unavailable' }, count: 2 });

    expect((await agent.post('/logout').expect(303)).headers.location).toBe('/');
    expect((await agent.get('/session')).body.authenticated).toBe(false);
    expect(errors).toEqual([
      { provider: 'default', code: 'OAUTH_TOKEN_ENDPOINT_ERROR', status: 502 },
      { provider: 'default', code: 'OAUTH_TOKEN_ENDPOINT_ERROR', status: 502 },
    ]);

    const [revoke, ...others] = otel.spansNamed('oauth2.revoke');
    expect(others).toEqual([]);
    expect(revoke?.status.code).toBe(SpanStatusCode.ERROR);
    expect(revoke?.attributes).toEqual({ 'oauth2.provider': 'default', 'oauth2.revoke.token_count': 2, 'error.type': 'OAUTH_TOKEN_ENDPOINT_ERROR' });
    const posts = otel.spans().filter((s) => otel.parentOf(s) === revoke);
    expect(posts.map((s) => [s.name, s.status.code, s.attributes['http.response.status_code'], s.attributes['error.type']])).toEqual([
      ['POST', SpanStatusCode.UNSET, 503, '503'],
      ['POST', SpanStatusCode.UNSET, 503, '503'],
    ]);
    expect(pointsOf(await otel.points('oauth2.logouts'))).toEqual([{ attributes: { 'oauth2.provider': 'default', 'oauth2.logout.reason': 'user' }, value: 1 }]);
    expect(tokenLeaks(tokens)).toEqual([]);
  });

  it('should fail the oauth2.revoke span (OAUTH_NETWORK_ERROR) when the revocation endpoint cannot be reached, and still log out', async () => {
    const { agent, errors, tokens } = await loggedIn({ revocationUrl: await closedPortUrl() });

    expect((await agent.post('/logout').expect(303)).headers.location).toBe('/');
    expect((await agent.get('/session')).body.authenticated).toBe(false);
    expect(errors).toEqual([
      { provider: 'default', code: 'OAUTH_NETWORK_ERROR', status: 502 },
      { provider: 'default', code: 'OAUTH_NETWORK_ERROR', status: 502 },
    ]);

    const [revoke, ...others] = otel.spansNamed('oauth2.revoke');
    expect(others).toEqual([]);
    expect(revoke?.status.code).toBe(SpanStatusCode.ERROR);
    expect(revoke?.attributes).toEqual({ 'oauth2.provider': 'default', 'oauth2.revoke.token_count': 2, 'error.type': 'OAUTH_NETWORK_ERROR' });
    const posts = otel.spans().filter((s) => otel.parentOf(s) === revoke);
    expect(posts.map((s) => [s.name, s.status.code, s.attributes['http.response.status_code']])).toEqual([
      ['POST', SpanStatusCode.ERROR, undefined],
      ['POST', SpanStatusCode.ERROR, undefined],
    ]);
    expect(tokenLeaks(tokens)).toEqual([]);
  });

  it('should leave the oauth2.revoke span unset (not failed) when every revocation succeeds', async () => {
    const { agent, errors } = await loggedIn();
    await agent.post('/logout').expect(303);
    expect(errors).toEqual([]);
    const [revoke] = otel.spansNamed('oauth2.revoke');
    expect([revoke?.status.code, revoke?.attributes]).toEqual([SpanStatusCode.UNSET, { 'oauth2.provider': 'default', 'oauth2.revoke.token_count': 2 }]);
  });
});
