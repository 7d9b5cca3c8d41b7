import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { clientCredentials } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { startResourceServer, type ResourceServer } from '../support/resource-server';
import { installTelemetry, pointsOf, type InstalledTelemetry } from '../support/telemetry';

// Issue 23 item 4: the backend client's token request and API calls are spans too (no provider
// name: a backend client has none), with nothing secret in them; its grants are counted by
// `oauth2.grants` as the login's are (one telemetry path for every token-endpoint grant).
let as: TestAuthorizationServer;
let api: ResourceServer;
let otel: InstalledTelemetry;
beforeAll(async () => {
  as = await startAuthorizationServer();
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

const svc = (extra: Record<string, unknown> = {}) => ({ clientId: 'svc', clientSecret: 'svc-secret', tokenUrl: `${as.issuer}/token`, apiBaseUrl: api.url, ...extra });

describe('telemetry of clientCredentials()', () => {
  it('should make a CLIENT span for the grant and one for each API call, with no secret in any attribute', async () => {
    const backend = clientCredentials(svc({ extraQuery: { key: 'backend-api-key-9' } }));
    const me = await backend.get('/api/me');
    expect(me.status).toBe(200);
    const token = (await backend.getToken()).accessToken;

    const token_url = new URL(`${as.issuer}/token`);
    const grants = otel.spansNamed('oauth2.client_credentials_grant');
    expect(grants.map((s) => [s.kind, s.attributes])).toEqual([
      [
        SpanKind.CLIENT,
        {
          'http.request.method': 'POST',
          'url.full': `${token_url.origin}${token_url.pathname}`,
          'server.address': '127.0.0.1',
          'server.port': Number(token_url.port),
          'oauth2.grant_type': 'client_credentials',
        },
      ],
    ]);
    const gets = otel.spansNamed('GET');
    expect(gets.map((s) => [s.attributes['url.full'], s.attributes['http.response.status_code']])).toEqual([[`${api.url}/api/me?key=REDACTED`, 200]]);
    const values = otel.spans().flatMap((s) => Object.values(s.attributes).map(String));
    expect(values.filter((v) => v.includes(token) || v.includes('svc-secret') || v.includes('backend-api-key-9'))).toEqual([]);
  });

  it('should count each token request in oauth2.grants by grant type, once per token (a cached token is not a grant)', async () => {
    const backend = clientCredentials(svc());
    for (let i = 0; i < 3; i++) expect((await backend.get('/api/me')).status).toBe(200);
    expect(pointsOf(await otel.points('oauth2.grants'))).toEqual([{ attributes: { 'oauth2.grant_type': 'client_credentials' }, value: 1 }]);
    expect(otel.spansNamed('oauth2.client_credentials_grant')).toHaveLength(1);
  });

  it('should fail the grant span and count the failure (error.type, oauth2.error) when the token endpoint answers 503', async () => {
    const backend = clientCredentials(svc());
    await as.failNextTokenRequest({ status: 503, body: { error: 'temporarily_unavailable' } });
    await expect(backend.get('/api/me')).rejects.toMatchObject({ code: 'OAUTH_TOKEN_ENDPOINT_ERROR' });
    expect((await backend.get('/api/me')).status).toBe(200);

    const grants = otel.spansNamed('oauth2.client_credentials_grant');
    expect(grants.map((s) => [s.status.code, s.attributes['error.type'], s.attributes['oauth2.error']])).toEqual([
      [SpanStatusCode.ERROR, 'OAUTH_TOKEN_ENDPOINT_ERROR', 'temporarily_unavailable'],
      [SpanStatusCode.UNSET, undefined, undefined],
    ]);
    expect(pointsOf(await otel.points('oauth2.grants'))).toEqual([
      { attributes: { 'oauth2.grant_type': 'client_credentials', 'error.type': 'OAUTH_TOKEN_ENDPOINT_ERROR', 'oauth2.error': 'temporarily_unavailable' }, value: 1 },
      { attributes: { 'oauth2.grant_type': 'client_credentials' }, value: 1 },
    ]);
  });

  it('should make the grant span and the API call children of the active span, as for the login grants', async () => {
    const backend = clientCredentials(svc());
    const status = await trace.getTracer('app').startActiveSpan('app.job', async (span) => {
      try {
        return (await backend.get('/api/me')).status;
      } finally {
        span.end();
      }
    });
    expect(status).toBe(200);
    const [job] = otel.spansNamed('app.job');
    expect([otel.parentOf(otel.spansNamed('oauth2.client_credentials_grant')[0]!), otel.parentOf(otel.spansNamed('GET')[0]!)]).toEqual([job, job]);
  });

  it('should make no span and no metric with `telemetry: false`', async () => {
    const backend = clientCredentials(svc({ telemetry: false }));
    expect((await backend.get('/api/me')).status).toBe(200);
    expect(otel.spans()).toEqual([]);
    expect(await otel.metrics()).toEqual([]);
  });

  it('should refuse a `telemetry` that is not a boolean, naming the factory and the option', () => {
    expect(() => clientCredentials(svc({ telemetry: 'yes' }))).toThrow('clientCredentials: `telemetry` must be a boolean');
  });
});
