import request from 'supertest';
import type { Express } from 'express';
import { login } from '../support/login-flow';
import { startSeveralApis, type SeveralApis } from '../support/several-apis';
import { createTestApp, providerOptions } from '../support/test-app';
import { installTelemetry, type InstalledTelemetry } from '../support/telemetry';

// Issue 23 item 4 with the `apis` option (issue 21): an API's own token (a refresh grant with its
// `resource`) is a CLIENT span, and the API call after it an HTTP CLIENT span.
let env: SeveralApis;
let otel: InstalledTelemetry;
beforeAll(async () => {
  env = await startSeveralApis();
});
afterAll(() => env.stop());
beforeEach(() => {
  otel = installTelemetry();
});
afterEach(() => otel.uninstall());

function apiRoute(app: Express): void {
  app.get('/call/:api', async (req, res, next) => {
    try {
      const r = await req.oauth.api(String(req.params.api)).get('/items');
      res.status(r.status).json(await r.json());
    } catch (err) {
      next(err);
    }
  });
}

describe('telemetry with several APIs', () => {
  it('should trace the resource grant of an API token and the API call', async () => {
    const { app } = createTestApp({ oauth: { ...providerOptions(env.as), apis: env.apis }, routes: apiRoute });
    const agent = request.agent(app);
    await login(agent);
    await agent.get('/call/orders').expect(200);

    const tokenUrl = new URL(env.as.endpoints.token);
    const grants = otel.spansNamed('oauth2.resource_grant');
    expect(grants.map((s) => [s.attributes['oauth2.provider'], s.attributes['oauth2.grant_type'], s.attributes['url.full']])).toEqual([
      ['default', 'refresh_token', `${tokenUrl.origin}${tokenUrl.pathname}`],
    ]);
    const calls = otel.spansNamed('GET').filter((s) => String(s.attributes['url.full']).startsWith(env.servers.orders.url));
    expect(calls.map((s) => [s.attributes['url.full'], s.attributes['http.response.status_code']])).toEqual([[`${env.apis.orders.url}/items`, 200]]);
  });
});
