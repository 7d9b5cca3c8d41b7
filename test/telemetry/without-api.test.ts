import { spawnSync } from 'node:child_process';
import path from 'node:path';
import request from 'supertest';
import { loadOpenTelemetryApi } from '../../lib/telemetry/otel-api';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { REDIRECT_URI } from '../support/test-app';
import { installTelemetry, type InstalledTelemetry } from '../support/telemetry';

// Issue 23 item 4: `@opentelemetry/api` is an optional peer. Without it the package loads and works
// (login, API call, refresh, logout), makes no span, and `telemetry: true` is refused at startup.
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

function notInstalled(id: string): never {
  throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
}

describe('loadOpenTelemetryApi', () => {
  it('should load the installed API, and give undefined when it cannot be required or is not the API', () => {
    expect(typeof loadOpenTelemetryApi()?.trace.getTracer).toBe('function');
    expect(loadOpenTelemetryApi(notInstalled)).toBeUndefined();
    expect(loadOpenTelemetryApi(() => ({}))).toBeUndefined();
    expect(loadOpenTelemetryApi(() => null)).toBeUndefined();
  });
});

describe('without @opentelemetry/api', () => {
  it('should log in, call the API, refresh and log out with no span, and refuse `telemetry: true` naming the option', async () => {
    type Kit = {
      testApp: typeof import('../support/test-app');
      flow: typeof import('../support/login-flow');
      testing: typeof import('express-oauth2-session/testing');
    };
    let kit: Kit | undefined;
    jest.isolateModules(() => {
      jest.doMock('@opentelemetry/api', () => notInstalled('@opentelemetry/api'));
      kit = { testApp: require('../support/test-app'), flow: require('../support/login-flow'), testing: require('express-oauth2-session/testing') };
    });
    const { testApp, flow, testing } = kit!;
    expect(() => testApp.createTestApp({ oauth: { ...testApp.providerOptions(as), telemetry: true } })).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_OAUTH_CONFIG', path: 'telemetry', message: expect.stringContaining('`@opentelemetry/api` cannot be loaded') }),
    );

    const { app, store } = testApp.createTestApp({ oauth: testApp.providerOptions(as) });
    const agent = request.agent(app);
    await flow.login(agent);
    const sid = (await agent.get('/session')).body.sessionId as string;
    await testing.expireAccessToken(store, sid);
    expect((await agent.get('/me').expect(200)).body.sub).toBe('alice');
    expect((await as.tokenRequests('refresh_token')).length).toBeGreaterThanOrEqual(1);
    await agent.post('/logout').expect(303);
    expect((await agent.get('/session')).body.authenticated).toBe(false);
    // An SDK is registered (globally), but this copy of the package cannot load the API.
    expect(otel.spans()).toEqual([]);
    expect(await otel.metrics()).toEqual([]);
  });

  it('should load and make a middleware in a Node process where the API does not resolve', () => {
    const root = path.join(__dirname, '..', '..');
    const script = `
      const { oauthMiddleware } = require('./lib/index.ts');
      const options = { clientId: 'c', tokenEndpointAuthMethod: 'none', authorizationUrl: 'https://as.example/authorize', tokenUrl: 'https://as.example/token', redirectUri: 'http://127.0.0.1:3000/callback' };
      const mw = oauthMiddleware(options);
      let refused = '';
      try { oauthMiddleware({ ...options, telemetry: true }); } catch (err) { refused = err.code + ' ' + err.path; }
      const loaded = Object.keys(require.cache).filter((f) => f.includes('@opentelemetry'));
      console.log(JSON.stringify({ middleware: typeof mw, off: typeof oauthMiddleware({ ...options, telemetry: false }), refused, loaded }));
    `;
    const run = spawnSync(process.execPath, ['--require', path.join(__dirname, '../support/hide-otel-api.cjs'), '--require', 'tsx/cjs', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ middleware: 'function', off: 'function', refused: 'ERR_OAUTH_CONFIG telemetry', loaded: [] });
  });
});
