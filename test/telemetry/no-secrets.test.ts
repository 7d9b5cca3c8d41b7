import request from 'supertest';
import { expireAccessToken } from 'express-oauth2-session/testing';
import type { TokensEvent } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { authorize, pathOf } from '../support/login-flow';
import { startResourceServer, type ResourceServer } from '../support/resource-server';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';
import { installTelemetry, type InstalledTelemetry } from '../support/telemetry';

// Issue 23 item 4: no token, code, state, secret or API key in any span attribute, event, status
// or metric attribute, over every path that makes one (the token in the query included).
let as: TestAuthorizationServer;
let api: ResourceServer;
let otel: InstalledTelemetry;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
  api = await startResourceServer({ issuer: as.issuer });
});
afterAll(async () => {
  await api.stop();
  await as.stop();
});
beforeEach(() => {
  otel = installTelemetry();
});
afterEach(() => otel.uninstall());

/** Every string the exporters received: span names, attribute values, event names and attributes, status messages, metric attributes. */
async function everythingExported(): Promise<string[]> {
  const out: string[] = [];
  const values = (attributes: Record<string, unknown>) => Object.entries(attributes).flatMap(([k, v]) => [k, String(v)]);
  for (const span of otel.spans()) {
    out.push(span.name, ...values(span.attributes), span.status.message ?? '');
    for (const event of span.events) out.push(event.name, ...values(event.attributes ?? {}));
  }
  for (const metric of await otel.metrics()) {
    out.push(metric.descriptor.name, metric.descriptor.description);
    for (const point of metric.dataPoints) out.push(...values(point.attributes));
  }
  return out;
}

describe('telemetry: nothing sensitive', () => {
  it('should export no token, code, state, client secret or query value over a login, API calls, a refresh, UserInfo, a failed refresh and a logout', async () => {
    const events: TokensEvent[] = [];
    const { app, store } = createTestApp({
      oauth: {
        ...providerOptions(as, { apiBaseUrl: api.url, tokenPlacement: 'query', extraQuery: { key: 'app-key-value-1234' }, allowedOrigins: [api.url, as.issuer] }),
        onTokens: (e) => void events.push(e),
      },
      routes: (a) => {
        a.get('/echo', async (req, res, next) => {
          try {
            res.json(await (await req.oauth.get('/api/echo', { query: { q: 'query-secret-5678' } })).json());
          } catch (err) {
            next(err);
          }
        });
        a.get('/userinfo', async (req, res, next) => {
          try {
            res.json(await req.oauth.userinfo());
          } catch (err) {
            next(err);
          }
        });
      },
    });
    const agent = request.agent(app);
    const { authorizationUrl, callbackUrl } = await authorize(agent);
    await agent.get(pathOf(callbackUrl)).expect(303);
    const sid = (await agent.get('/session')).body.sessionId as string;
    expect((await agent.get('/echo').expect(200)).body.query).toEqual({ key: 'app-key-value-1234', q: 'query-secret-5678', access_token: events[0]?.tokens?.accessToken });
    await expireAccessToken(store, sid);
    await agent.get('/echo').expect(200);
    // The UserInfo endpoint refuses a token in the query (oidc-provider): a failed UserInfo span too.
    await agent.get('/userinfo').expect(502);
    await expireAccessToken(store, sid);
    await as.failNext({ status: 400, body: { error: 'invalid_grant', error_description: 'refresh token revoked' } });
    await agent.get('/echo').expect(401);
    // A second login, ended by the user (revocation).
    const second = request.agent(app);
    const again = await authorize(second);
    await second.get(pathOf(again.callbackUrl)).expect(303);
    await second.post('/logout').expect(303);

    const secrets = new Set<string>(['rp-basic-secret', 'app-key-value-1234', 'query-secret-5678']);
    for (const url of [callbackUrl, again.callbackUrl]) secrets.add(new URL(url).searchParams.get('code') as string);
    for (const url of [authorizationUrl, again.authorizationUrl]) {
      const params = new URL(url).searchParams;
      for (const name of ['state', 'nonce', 'code_challenge']) secrets.add(params.get(name) as string);
    }
    for (const e of events) for (const t of [e.tokens, e.previous]) for (const v of [t?.accessToken, t?.refreshToken, t?.idToken]) if (v) secrets.add(v);
    expect(events.map((e) => e.reason)).toEqual(['login', 'refresh', 'logout', 'login', 'logout']);
    expect(secrets.size).toBeGreaterThanOrEqual(3 + 2 + 6 + 2 * 3);
    expect([...secrets].every((s) => typeof s === 'string' && s.length >= 8)).toBe(true);

    const exported = await everythingExported();
    // The paths above made every kind of span and metric.
    const names = new Set(otel.spans().map((s) => s.name));
    expect([...names].sort()).toEqual(
      [
        'GET',
        'POST',
        'oauth2.callback',
        'oauth2.code_exchange',
        'oauth2.discovery',
        'oauth2.login',
        'oauth2.refresh',
        'oauth2.refresh.lock_wait',
        'oauth2.refresh_grant',
        'oauth2.revoke',
        'oauth2.userinfo',
      ].sort(),
    );
    const leaks = exported.filter((value) => [...secrets].some((secret) => value.includes(secret)));
    expect(leaks).toEqual([]);
    const echoUrls = otel
      .spans()
      .filter((s) => String(s.attributes['url.full']).includes('/api/echo'))
      .map((s) => s.attributes['url.full']);
    expect(new Set(echoUrls)).toEqual(new Set([`${api.url}/api/echo?key=REDACTED&q=REDACTED&access_token=REDACTED`]));
  });
});
