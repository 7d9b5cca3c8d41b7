import request from 'supertest';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { authorize } from '../support/login-flow';
import { createTestApp, providerOptions } from '../support/test-app';

/** A fresh app and agent with one login started (the AS has already redirected back, not yet delivered). */
export async function startedLogin(as: TestAuthorizationServer, overrides = {}) {
  const { app, store, oauth } = createTestApp({ oauth: providerOptions(as, overrides) });
  const agent = request.agent(app);
  const flow = await authorize(agent);
  const params = new URL(flow.callbackUrl).searchParams;
  return { app, store, oauth, agent, flow, state: params.get('state') as string, code: params.get('code') as string, iss: params.get('iss') as string };
}

/** A rejected callback: status (and code), no-store, no redirect, still logged out, zero token requests. */
export async function expectRejected(as: TestAuthorizationServer, agent: request.Agent, path: string, status: number, code?: string) {
  const res = await agent.get(path).set('Accept', 'application/json');
  expect(res.status).toBe(status);
  if (code) expect(res.body.code).toBe(code);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['referrer-policy']).toBe('no-referrer');
  expect(res.headers.location).toBeUndefined();
  expect((await agent.get('/session')).body.authenticated).toBe(false);
  expect(await as.tokenRequests()).toEqual([]);
  return res;
}

const CALLBACK_A = 'http://127.0.0.1:3000/callback/a';
const CALLBACK_B = 'http://127.0.0.1:3000/callback/b';

/** A real AS with both callbacks registered, for two providers `a` (rp-basic) and `b` (rp-post). */
export function startTwoClientAs(): Promise<TestAuthorizationServer> {
  return startAuthorizationServer({ redirectUris: [CALLBACK_A, CALLBACK_B] });
}

/** The `providers` option for `a` and `b` of `startTwoClientAs()`; each callback is `/callback/<name>`. */
export function twoClientProviders(as: TestAuthorizationServer) {
  return {
    a: providerOptions(as, { redirectUri: CALLBACK_A }) as never,
    b: providerOptions(as, { clientId: 'rp-post', redirectUri: CALLBACK_B }) as never,
  };
}
