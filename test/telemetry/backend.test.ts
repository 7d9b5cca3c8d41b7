import { SpanKind } from '@opentelemetry/api';
import { clientCredentials } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { startResourceServer, type ResourceServer } from '../support/resource-server';
import { installTelemetry, type InstalledTelemetry } from '../support/telemetry';

// Issue 23 item 4: the backend client's token request and API calls are spans too (no provider
// name: a backend client has none), with nothing secret in them.
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

  it('should make no span with `telemetry: false`', async () => {
    const backend = clientCredentials(svc({ telemetry: false }));
    expect((await backend.get('/api/me')).status).toBe(200);
    expect(otel.spans()).toEqual([]);
  });

  it('should refuse a `telemetry` that is not a boolean, naming the factory and the option', () => {
    expect(() => clientCredentials(svc({ telemetry: 'yes' }))).toThrow('clientCredentials: `telemetry` must be a boolean');
  });
});
