import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import request from 'supertest';
import type { Express } from 'express';
import { expireAccessToken } from 'express-oauth2-session/testing';
import type { TokenSet } from 'express-oauth2-session';
import { login } from '../support/login-flow';
import { startSeveralApis, type SeveralApis } from '../support/several-apis';
import { createTestApp, providerOptions } from '../support/test-app';
import { installTelemetry, pointsOf, type InstalledTelemetry } from '../support/telemetry';

// Issue 23 item 4 with token exchange (RFC 8693, issue 21): `req.oauth.exchange()` is an
// `oauth2.token_exchange` CLIENT span in the caller's context (as the other grants: a child of the
// active span), counted by `oauth2.grants`; failed with the error code when the provider refuses
// it; no token in any exported attribute. The provider is the real test provider (oidc-provider
// with the token-exchange grant), which refuses an unknown audience with `invalid_target`.
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

let env: SeveralApis;
let otel: InstalledTelemetry;
beforeAll(async () => {
  env = await startSeveralApis({ tokenExchange: true });
});
afterAll(() => env.stop());
beforeEach(() => {
  otel = installTelemetry();
});
afterEach(() => otel.uninstall());

/** Every token value the app saw: issued at login and refresh (onTokens), and each exchanged one. */
const seenTokens: string[] = [];

function routes(app: Express): void {
  // The application's own span around the call, as an HTTP server instrumentation would make.
  app.get('/exchange', (req, res, next) =>
    trace.getTracer('app').startActiveSpan('app.request', async (span) => {
      try {
        const audience = String(req.query.audience ?? env.apis.billing.resource);
        const tokens = await req.oauth.exchange({ audience, scope: 'billing:read' });
        seenTokens.push(tokens.accessToken);
        res.json({ exchanged: true });
      } catch (err) {
        next(err);
      } finally {
        span.end();
      }
    }),
  );
}

async function loggedIn() {
  const onTokens = (e: { tokens?: Readonly<TokenSet> | undefined }) => {
    for (const v of [e.tokens?.accessToken, e.tokens?.refreshToken, e.tokens?.idToken]) if (v) seenTokens.push(v);
  };
  const { app, store } = createTestApp({ oauth: { ...providerOptions(env.as), onTokens }, routes });
  const agent = request.agent(app);
  await login(agent);
  const sid = (await agent.get('/session')).body.sessionId as string;
  return { agent, store, sid };
}

function only(name: string): ReadableSpan {
  const spans = otel.spansNamed(name);
  expect(spans.map((s) => s.name)).toEqual([name]);
  return spans[0] as ReadableSpan;
}

/** Every exported span or metric attribute value (and span name, status message) holding a token the app saw, or the client secret. */
async function leaks(): Promise<string[]> {
  const secrets = [...seenTokens, 'rp-basic-secret'];
  expect(secrets.every((s) => s.length >= 15)).toBe(true);
  const exported = otel.spans().flatMap((s) => [s.name, s.status.message ?? '', ...Object.values(s.attributes).map(String)]);
  for (const metric of await otel.metrics()) for (const point of metric.dataPoints) exported.push(...Object.values(point.attributes).map(String));
  return exported.filter((v) => secrets.some((secret) => v.includes(secret)));
}

const tokenUrl = () => new URL(env.as.endpoints.token);

describe('telemetry of token exchange', () => {
  beforeEach(() => {
    seenTokens.length = 0;
  });

  it('should make an oauth2.token_exchange CLIENT span under the active span, count it by grant type, and export no token', async () => {
    const { agent } = await loggedIn();
    await agent.get('/exchange').expect(200);
    // From the login's record the second time: no second grant, no second span.
    await agent.get('/exchange').expect(200);

    const exchange = only('oauth2.token_exchange');
    expect(exchange.kind).toBe(SpanKind.CLIENT);
    expect(exchange.status.code).toBe(SpanStatusCode.UNSET);
    expect(exchange.attributes).toEqual({
      'http.request.method': 'POST',
      'url.full': `${tokenUrl().origin}${tokenUrl().pathname}`,
      'server.address': '127.0.0.1',
      'server.port': Number(tokenUrl().port),
      'oauth2.provider': 'default',
      'oauth2.grant_type': TOKEN_EXCHANGE,
    });
    const appSpans = otel.spansNamed('app.request');
    expect(appSpans).toHaveLength(2);
    expect(otel.parentOf(exchange)).toBe(appSpans[0]);

    expect(pointsOf(await otel.points('oauth2.grants'))).toEqual([
      { attributes: { 'oauth2.provider': 'default', 'oauth2.grant_type': 'authorization_code' }, value: 1 },
      { attributes: { 'oauth2.provider': 'default', 'oauth2.grant_type': TOKEN_EXCHANGE }, value: 1 },
    ]);
    // The login's three tokens and the exchanged one.
    expect(new Set(seenTokens).size).toBe(4);
    expect(await leaks()).toEqual([]);
  });

  it('should refresh an expired subject token first: oauth2.refresh and oauth2.token_exchange both children of the active span', async () => {
    const { agent, store, sid } = await loggedIn();
    await expireAccessToken(store, sid);
    await agent.get('/exchange').expect(200);

    const [appSpan] = otel.spansNamed('app.request');
    const refresh = only('oauth2.refresh');
    const exchange = only('oauth2.token_exchange');
    expect([otel.parentOf(refresh), otel.parentOf(exchange)]).toEqual([appSpan, appSpan]);
    expect(otel.parentOf(only('oauth2.refresh_grant'))).toBe(refresh);
    expect(pointsOf(await otel.points('oauth2.grants'))).toEqual([
      { attributes: { 'oauth2.provider': 'default', 'oauth2.grant_type': 'authorization_code' }, value: 1 },
      { attributes: { 'oauth2.provider': 'default', 'oauth2.grant_type': 'refresh_token' }, value: 1 },
      { attributes: { 'oauth2.provider': 'default', 'oauth2.grant_type': TOKEN_EXCHANGE }, value: 1 },
    ]);
    // Login [access, refresh, ID], refresh [access, rotated refresh, ID], then the exchanged token. The
    // refreshed ID token equals the login's when both fall in the same second, so only the rest are distinct.
    expect(seenTokens).toHaveLength(7);
    const [loginAt, loginRt, , refreshedAt, refreshedRt, , exchangedAt] = seenTokens;
    expect(new Set([loginAt, refreshedAt, exchangedAt, loginRt, refreshedRt]).size).toBe(5);
    expect(await leaks()).toEqual([]);
  });

  it('should fail the span and count the failure (error.type, oauth2.error) when the provider refuses the exchange (invalid_target)', async () => {
    const { agent } = await loggedIn();
    const res = await agent.get(`/exchange?audience=${encodeURIComponent('https://unknown.api.test/')}`).expect(502);
    expect(res.body.code).toBe('OAUTH_TOKEN_ENDPOINT_ERROR');

    const exchange = only('oauth2.token_exchange');
    expect(exchange.status.code).toBe(SpanStatusCode.ERROR);
    expect(exchange.attributes['error.type']).toBe('OAUTH_TOKEN_ENDPOINT_ERROR');
    expect(exchange.attributes['oauth2.error']).toBe('invalid_target');
    expect(otel.parentOf(exchange)).toBe(only('app.request'));
    expect(exchange.events).toEqual([]);
    expect(pointsOf(await otel.points('oauth2.grants'))).toEqual([
      { attributes: { 'oauth2.provider': 'default', 'oauth2.grant_type': 'authorization_code' }, value: 1 },
      {
        attributes: { 'oauth2.provider': 'default', 'oauth2.grant_type': TOKEN_EXCHANGE, 'error.type': 'OAUTH_TOKEN_ENDPOINT_ERROR', 'oauth2.error': 'invalid_target' },
        value: 1,
      },
    ]);
    expect(new Set(seenTokens).size).toBe(3);
    expect(await leaks()).toEqual([]);
  });
});
