import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import request from 'supertest';
import { expireAccessToken } from 'express-oauth2-session/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { authorize, login, pathOf } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';
import { installTelemetry, type InstalledTelemetry } from '../support/telemetry';

// Issue 23 item 4: the spans of login, callback, code exchange, refresh (with its lock wait),
// revoke, UserInfo, discovery and API calls, read from the OpenTelemetry SDK's in-memory exporter.
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

const tokenUrl = () => new URL(as.endpoints.token);

function only(name: string): ReadableSpan {
  const spans = otel.spansNamed(name);
  expect(spans.map((s) => s.name)).toEqual([name]);
  return spans[0] as ReadableSpan;
}

function app(overrides: Record<string, unknown> = {}) {
  return createTestApp({
    oauth: providerOptions(as, overrides),
    routes: (a) =>
      a.get('/userinfo', async (req, res, next) => {
        try {
          res.json(await req.oauth.userinfo());
        } catch (err) {
          next(err);
        }
      }),
  });
}

describe('telemetry spans', () => {
  it('should trace the login, the callback and the code exchange as its child (a CLIENT span with HTTP attributes)', async () => {
    const agent = request.agent(app().app);
    await login(agent);

    const loginSpan = only('oauth2.login');
    expect(loginSpan.kind).toBe(SpanKind.INTERNAL);
    expect(loginSpan.attributes).toEqual({ 'oauth2.provider': 'default', 'oauth2.step_up': false, 'oauth2.par': false });
    expect(loginSpan.status.code).toBe(SpanStatusCode.UNSET);

    const callback = only('oauth2.callback');
    expect(callback.attributes).toEqual({ 'oauth2.provider': 'default' });
    expect(callback.status.code).toBe(SpanStatusCode.UNSET);
    const exchange = only('oauth2.code_exchange');
    expect(exchange.kind).toBe(SpanKind.CLIENT);
    expect(otel.parentOf(exchange)).toBe(callback);
    expect(exchange.attributes).toEqual({
      'http.request.method': 'POST',
      'url.full': `${tokenUrl().origin}${tokenUrl().pathname}`,
      'server.address': '127.0.0.1',
      'server.port': Number(tokenUrl().port),
      'oauth2.provider': 'default',
      'oauth2.grant_type': 'authorization_code',
    });
  });

  it('should trace a refresh with its lock wait and its token request as children, and the API call as an HTTP CLIENT span', async () => {
    const { app: testApp, store } = app();
    const agent = request.agent(testApp);
    await login(agent);
    const sid = (await agent.get('/session')).body.sessionId as string;
    await expireAccessToken(store, sid);

    await agent.get('/me').expect(200);

    const refresh = only('oauth2.refresh');
    expect(refresh.attributes).toEqual({ 'oauth2.provider': 'default', 'oauth2.refresh.outcome': 'refreshed' });
    const wait = only('oauth2.refresh.lock_wait');
    expect(otel.parentOf(wait)).toBe(refresh);
    expect(wait.attributes).toEqual({ 'oauth2.provider': 'default', 'oauth2.lock.outcome': 'acquired' });
    const grant = only('oauth2.refresh_grant');
    expect(otel.parentOf(grant)).toBe(refresh);
    expect(grant.kind).toBe(SpanKind.CLIENT);
    expect(grant.attributes['oauth2.grant_type']).toBe('refresh_token');
    expect(grant.attributes['url.full']).toBe(`${tokenUrl().origin}${tokenUrl().pathname}`);

    const api = otel.spans().filter((s) => s.name === 'GET' && String(s.attributes['url.full']).endsWith('/me'));
    expect(api.map((s) => [s.kind, s.attributes])).toEqual([
      [
        SpanKind.CLIENT,
        {
          'http.request.method': 'GET',
          'url.full': `${as.issuer}/me`,
          'server.address': '127.0.0.1',
          'server.port': Number(new URL(as.issuer).port),
          'http.response.status_code': 200,
        },
      ],
    ]);
  });

  it('should fail the refresh span with error.type and oauth2.error when the provider rejects the refresh token', async () => {
    const { app: testApp, store } = app();
    const agent = request.agent(testApp);
    await login(agent);
    const sid = (await agent.get('/session')).body.sessionId as string;
    await expireAccessToken(store, sid);
    await as.failNext({ status: 400, body: { error: 'invalid_grant', error_description: 'gone' } });

    await agent.get('/me').expect(401);

    const refresh = only('oauth2.refresh');
    expect(refresh.status.code).toBe(SpanStatusCode.ERROR);
    expect(refresh.attributes).toEqual({ 'oauth2.provider': 'default', 'error.type': 'OAUTH_REAUTHENTICATION_REQUIRED', 'oauth2.error': 'invalid_grant' });
    const grant = only('oauth2.refresh_grant');
    expect(grant.status.code).toBe(SpanStatusCode.ERROR);
    expect(grant.attributes['error.type']).toBe('OAUTH_TOKEN_ENDPOINT_ERROR');
    expect(grant.attributes['oauth2.error']).toBe('invalid_grant');
  });

  it('should trace the revocation of both tokens at logout, each request a CLIENT span under oauth2.revoke', async () => {
    const agent = request.agent(app().app);
    await login(agent);
    await agent.post('/logout').expect(303);

    const revoke = only('oauth2.revoke');
    expect(revoke.attributes).toEqual({ 'oauth2.provider': 'default', 'oauth2.revoke.token_count': 2 });
    const posts = otel.spans().filter((s) => otel.parentOf(s) === revoke);
    const revocation = new URL(as.endpoints.revocation);
    expect(posts.map((s) => [s.name, s.attributes['url.full'], s.attributes['http.response.status_code']])).toEqual([
      ['POST', `${revocation.origin}${revocation.pathname}`, 200],
      ['POST', `${revocation.origin}${revocation.pathname}`, 200],
    ]);
  });

  it('should trace UserInfo, with the discovery of its endpoint and both HTTP requests as descendants', async () => {
    const agent = request.agent(app().app);
    await login(agent);
    const res = await agent.get('/userinfo').expect(200);
    expect(res.body.sub).toBe('alice');

    const userinfo = only('oauth2.userinfo');
    expect(userinfo.attributes).toEqual({ 'oauth2.provider': 'default' });
    const discovery = only('oauth2.discovery');
    expect(otel.parentOf(discovery)).toBe(userinfo);
    expect(discovery.attributes).toEqual({ 'oauth2.provider': 'default', 'server.address': '127.0.0.1' });
    const [wellKnown] = otel.spans().filter((s) => otel.parentOf(s) === discovery);
    expect(wellKnown?.attributes['url.full']).toBe(`${as.issuer}/.well-known/openid-configuration`);
    const gets = otel.spans().filter((s) => otel.parentOf(s) === userinfo && s.name === 'GET');
    expect(gets.map((s) => [s.attributes['url.full'], s.attributes['http.response.status_code']])).toEqual([[as.endpoints.userinfo, 200]]);
  });

  it('should fail the callback span (error.type, no code exchange) for a forged callback', async () => {
    const agent = request.agent(app().app);
    const { callbackUrl } = await authorize(agent);
    const forged = new URL(callbackUrl);
    forged.searchParams.set('state', 'forged-state');
    await agent.get(pathOf(forged.href)).expect(400);

    const callback = only('oauth2.callback');
    expect(callback.status.code).toBe(SpanStatusCode.ERROR);
    expect(callback.attributes).toEqual({ 'oauth2.provider': 'default', 'error.type': 'OAUTH_INVALID_CALLBACK' });
    expect(otel.spansNamed('oauth2.code_exchange')).toEqual([]);
  });

  it('should make the HTTP CLIENT spans around the `fetch` option too (JWKS, API calls, discovery, UserInfo)', async () => {
    const called: string[] = [];
    const custom = (input: string | URL, init?: RequestInit) => {
      called.push(new URL(input).pathname);
      return fetch(input, init);
    };
    const agent = request.agent(app({ fetch: custom }).app);
    await login(agent);
    await agent.get('/me').expect(200);
    await agent.get('/userinfo').expect(200);

    expect(called).toEqual(['/jwks', '/me', '/.well-known/openid-configuration', '/me']);
    const gets = otel.spans().filter((s) => s.name === 'GET');
    expect(gets.map((s) => [new URL(String(s.attributes['url.full'])).pathname, s.attributes['http.response.status_code'], otel.parentOf(s)?.name])).toEqual([
      ['/jwks', 200, 'oauth2.callback'],
      ['/me', 200, undefined],
      ['/.well-known/openid-configuration', 200, 'oauth2.discovery'],
      ['/me', 200, 'oauth2.userinfo'],
    ]);
  });

  it('should make no span with `telemetry: false`, though an SDK is registered', async () => {
    const agent = request.agent(app({ telemetry: false }).app);
    await login(agent);
    await agent.get('/me').expect(200);
    expect(otel.spans()).toEqual([]);
    expect(await otel.metrics()).toEqual([]);
  });
});
