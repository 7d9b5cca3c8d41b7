// The project's own tests use the shipped test kit (express-oauth2-session/testing): a real
// oidc-provider. Each test file starts its own in beforeAll (with the options it needs) and stops it
// in afterAll. Under `jest`, it runs in this worker's provider host (one long-lived process per
// worker, see provider-hosts.ts), not in a new child process; elsewhere the kit spawns one.
import http from 'node:http';
import { startTestProvider, type ProviderEndpoints, type ProviderRequest, type TestProvider, type TestProviderOptions } from 'express-oauth2-session/testing';
import type { SpawnedProvider } from '../../lib/testing/spawn-provider';
import { startTestProviderWith } from '../../lib/testing/test-provider';
import { providerHostUrl } from './provider-hosts';

export type Endpoints = ProviderEndpoints;
export type AsRequest = ProviderRequest;
export type TestAuthorizationServer = TestProvider;
export type StartOptions = TestProviderOptions;

/** POST to the host's control API; a new connection each time (nothing kept alive in the worker). */
function post(url: string, body?: object): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function startOnHost(host: string, options: object): Promise<SpawnedProvider> {
  const res = await post(`${host}/start`, options);
  if (res.status !== 200) throw new Error(`the test provider host could not start a provider (${res.status}): ${res.text}`);
  const info = JSON.parse(res.text) as Omit<SpawnedProvider, 'output' | 'stop'>;
  let stopped: Promise<void> | undefined;
  return {
    ...info,
    output: () => `(provider on port ${info.port} runs in the test provider host, pid ${info.pid})`,
    stop: () => (stopped ??= post(`${host}/stop/${info.port}`).then(() => undefined)),
  };
}

export function startAuthorizationServer(options: StartOptions = {}): Promise<TestAuthorizationServer> {
  const host = providerHostUrl();
  return host ? startTestProviderWith((o) => startOnHost(host, o), options) : startTestProvider(options);
}
