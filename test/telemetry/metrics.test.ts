import type { HistogramMetricData } from '@opentelemetry/sdk-metrics';
import request from 'supertest';
import { expireAccessToken } from 'express-oauth2-session/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { login } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';
import { installTelemetry, pointsOf, type InstalledTelemetry } from '../support/telemetry';

// Issue 23 item 4: counters and histograms (logins, logouts, refreshes, refresh failures by reason,
// lock waits, token-endpoint grants by type), read from the OpenTelemetry SDK's in-memory metric exporter.
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

async function loggedIn() {
  const { app, store, oauth } = createTestApp({ oauth: providerOptions(as) });
  const agent = request.agent(app);
  await login(agent);
  const sid = (await agent.get('/session')).body.sessionId as string;
  return { agent, store, sid, oauth };
}

describe('telemetry metrics', () => {
  it('should count logins and logouts by provider and reason', async () => {
    const first = await loggedIn();
    const second = await loggedIn();
    await first.agent.post('/logout').expect(303);

    expect(pointsOf(await otel.points('oauth2.logins'))).toEqual([{ attributes: { 'oauth2.provider': 'default' }, value: 2 }]);
    expect(pointsOf(await otel.points('oauth2.logouts'))).toEqual([{ attributes: { 'oauth2.provider': 'default', 'oauth2.logout.reason': 'user' }, value: 1 }]);
    await second.agent.post('/logout').expect(303);
    expect(pointsOf(await otel.points('oauth2.logouts'))).toEqual([{ attributes: { 'oauth2.provider': 'default', 'oauth2.logout.reason': 'user' }, value: 2 }]);
  });

  it('should count a refresh, the requests that joined it, and record the lock wait once', async () => {
    const { agent, store, sid } = await loggedIn();
    await expireAccessToken(store, sid);

    await Promise.all([agent.get('/me').expect(200), agent.get('/me').expect(200), agent.get('/me').expect(200)]);

    expect((await as.tokenRequests('refresh_token')).length).toBe(1);
    const refreshes = pointsOf(await otel.points('oauth2.refreshes'));
    expect(refreshes.find((p) => p.attributes['oauth2.refresh.outcome'] === 'refreshed')?.value).toBe(1);
    // Three requests, one refresh: the other two joined it in this process.
    expect(refreshes.reduce((n, p) => n + (p.value as number), 0)).toBe(3);
    expect(refreshes.find((p) => p.attributes['oauth2.refresh.outcome'] === 'joined')?.value).toBe(2);
    expect(await otel.points('oauth2.refresh.failures')).toEqual([]);
    // Token-endpoint grants: the login's code exchange and the one refresh grant the three requests shared.
    expect(pointsOf(await otel.points('oauth2.grants'))).toEqual([
      { attributes: { 'oauth2.provider': 'default', 'oauth2.grant_type': 'authorization_code' }, value: 1 },
      { attributes: { 'oauth2.provider': 'default', 'oauth2.grant_type': 'refresh_token' }, value: 1 },
    ]);

    // Their durations, with the same attributes: one point per grant type, each a real round trip.
    const grantDuration = (await otel.metrics()).find((m) => m.descriptor.name === 'oauth2.grant.duration') as HistogramMetricData;
    expect(grantDuration.descriptor.unit).toBe('s');
    expect(grantDuration.dataPoints.map((p) => [p.attributes['oauth2.grant_type'], p.value.count])).toEqual([
      ['authorization_code', 1],
      ['refresh_token', 1],
    ]);
    for (const p of grantDuration.dataPoints) expect([(p.value.sum ?? 0) > 0, (p.value.sum ?? 0) < 30]).toEqual([true, true]);

    const lockWait = (await otel.metrics()).find((m) => m.descriptor.name === 'oauth2.refresh.lock_wait.duration') as HistogramMetricData;
    expect(lockWait.descriptor.unit).toBe('s');
    expect(lockWait.dataPoints.map((p) => [p.attributes, p.value.count])).toEqual([[{ 'oauth2.provider': 'default', 'oauth2.lock.outcome': 'acquired' }, 1]]);
    const [point] = lockWait.dataPoints;
    expect(point!.value.sum).toBeGreaterThanOrEqual(0);
    expect(point!.value.sum).toBeLessThan(30);
  });

  it('should count refresh failures by reason: a rejected refresh token (invalid_grant) and a token endpoint that is down (503)', async () => {
    const rejected = await loggedIn();
    await expireAccessToken(rejected.store, rejected.sid);
    await as.failNext({ status: 400, body: { error: 'invalid_grant' } });
    await rejected.agent.get('/me').expect(401);

    const down = await loggedIn();
    await expireAccessToken(down.store, down.sid);
    await as.failNext({ status: 503, body: { error: 'temporarily_unavailable' } });
    await down.agent.get('/me').expect(503);

    expect(pointsOf(await otel.points('oauth2.refresh.failures'))).toEqual([
      { attributes: { 'oauth2.provider': 'default', 'error.type': 'OAUTH_REAUTHENTICATION_REQUIRED', 'oauth2.error': 'invalid_grant' }, value: 1 },
      { attributes: { 'oauth2.provider': 'default', 'error.type': 'OAUTH_TOKEN_ENDPOINT_ERROR', 'oauth2.error': 'temporarily_unavailable' }, value: 1 },
    ]);
    expect(pointsOf(await otel.points('oauth2.logouts'))).toEqual([{ attributes: { 'oauth2.provider': 'default', 'oauth2.logout.reason': 'refresh-rejected' }, value: 1 }]);
    expect(await otel.points('oauth2.refreshes')).toEqual([]);
    expect(pointsOf(await otel.points('oauth2.grants'))).toEqual([
      { attributes: { 'oauth2.provider': 'default', 'oauth2.grant_type': 'authorization_code' }, value: 2 },
      { attributes: { 'oauth2.provider': 'default', 'oauth2.grant_type': 'refresh_token', 'error.type': 'OAUTH_TOKEN_ENDPOINT_ERROR', 'oauth2.error': 'invalid_grant' }, value: 1 },
      { attributes: { 'oauth2.provider': 'default', 'oauth2.grant_type': 'refresh_token', 'error.type': 'OAUTH_TOKEN_ENDPOINT_ERROR', 'oauth2.error': 'temporarily_unavailable' }, value: 1 },
    ]);
    // A failed grant's duration carries the same failure attributes.
    const durations = (await otel.metrics()).find((m) => m.descriptor.name === 'oauth2.grant.duration') as HistogramMetricData;
    expect(durations.dataPoints.map((p) => [p.attributes['oauth2.grant_type'], p.attributes['oauth2.error'], p.value.count])).toEqual([
      ['authorization_code', undefined, 2],
      ['refresh_token', 'invalid_grant', 1],
      ['refresh_token', 'temporarily_unavailable', 1],
    ]);
  });

  it('should report to a meter provider registered after the middleware was made', async () => {
    await otel.uninstall();
    const { app } = createTestApp({ oauth: providerOptions(as) });
    otel = installTelemetry();
    await login(request.agent(app));
    expect(pointsOf(await otel.points('oauth2.logins'))).toEqual([{ attributes: { 'oauth2.provider': 'default' }, value: 1 }]);
    expect(otel.spansNamed('oauth2.callback').length).toBe(1);
  });
});
