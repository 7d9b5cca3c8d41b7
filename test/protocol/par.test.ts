import request from 'supertest';
import type { BackendClientOptions, TokenEndpointError } from 'express-oauth2-session';
import { pushAuthorizationRequest, type PushedAuthorizationTarget } from '../../lib/protocol/par';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { authorize, pathOf } from '../support/login-flow';
import { createTestApp, REDIRECT_URI } from '../support/test-app';

// RFC 9126 Pushed Authorization Requests against the real AS (oidc-provider, PAR at /request).
let as: TestAuthorizationServer;
let strict: TestAuthorizationServer;
beforeAll(async () => {
  [as, strict] = await Promise.all([
    startAuthorizationServer({
      redirectUris: [REDIRECT_URI],
      accessTokenTTL: 300,
      extraClients: [
        {
          client_id: 'rp-par-only',
          client_secret: 'rp-par-only-secret',
          token_endpoint_auth_method: 'client_secret_basic',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: [REDIRECT_URI],
          require_pushed_authorization_requests: true,
        },
      ],
    }),
    startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300, requirePushedAuthorizationRequests: true }),
  ]);
});
afterAll(() => Promise.all([as.stop(), strict.stop()]));
beforeEach(() => Promise.all([as.clearRequests(), strict.clearRequests()]));

/** Discovery gives the PAR endpoint: issuer only, plus the client. */
const discovered = (server: TestAuthorizationServer, overrides: Record<string, unknown> = {}) => ({
  clientId: 'rp-basic',
  clientSecret: 'rp-basic-secret',
  issuer: server.issuer,
  redirectUri: REDIRECT_URI,
  scope: ['openid', 'profile'],
  apiBaseUrl: server.issuer,
  ...overrides,
});

const target = (): PushedAuthorizationTarget => ({
  url: as.endpoints.pushedAuthorizationRequest,
  client: { clientId: 'rp-basic', clientSecret: 'rp-basic-secret', authMethod: 'client_secret_basic' },
  fetch: (input, init) => fetch(input, init),
  timeoutMs: 2000,
});

async function logIn(oauth: Parameters<typeof createTestApp>[0]['oauth'], returnTo = '/after') {
  const { app } = createTestApp({ oauth });
  const agent = request.agent(app);
  const { authorizationUrl, callbackUrl } = await authorize(agent, { loginPath: `/login?returnTo=${encodeURIComponent(returnTo)}&prompt=login` });
  const callback = await agent.get(pathOf(callbackUrl));
  const session = await agent.get('/session');
  return { authorizationUrl: new URL(authorizationUrl), callback, session: session.body as { authenticated: boolean; user: { sub: string } } };
}

describe('pushedAuthorizationRequests', () => {
  it('should push the request (client-authenticated; PKCE is required by this AS) and send the browser with client_id and request_uri only', async () => {
    const { authorizationUrl, callback, session } = await logIn(discovered(as, { pushedAuthorizationRequests: true }));
    expect(`${authorizationUrl.origin}${authorizationUrl.pathname}`).toBe(as.endpoints.authorization);
    expect([...authorizationUrl.searchParams.keys()]).toEqual(['client_id', 'request_uri']);
    expect(authorizationUrl.searchParams.get('client_id')).toBe('rp-basic');
    expect(authorizationUrl.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:[\w-]+$/);
    expect([callback.status, callback.headers.location]).toEqual([303, '/after']);
    expect([session.authenticated, session.user.sub]).toEqual([true, 'alice']);
    expect((await as.requests()).map((r) => [r.endpoint, r.clientId, r.authMethod, r.grantType, r.status])).toEqual([
      ['/request', 'rp-basic', 'client_secret_basic', undefined, 201],
      ['/token', 'rp-basic', 'client_secret_basic', 'authorization_code', 200],
    ]);
  });

  it('should authenticate the push with client_secret_post for such a client', async () => {
    const { callback } = await logIn(discovered(as, { clientId: 'rp-post', clientSecret: 'rp-post-secret', tokenEndpointAuthMethod: 'client_secret_post', pushedAuthorizationRequests: true }));
    expect(callback.status).toBe(303);
    expect((await as.requests()).map((r) => [r.endpoint, r.authMethod, r.status])).toEqual([
      ['/request', 'client_secret_post', 201],
      ['/token', 'client_secret_post', 200],
    ]);
  });

  it('should log in a client the AS registered as PAR-only', async () => {
    const { authorizationUrl, callback } = await logIn(discovered(as, { clientId: 'rp-par-only', clientSecret: 'rp-par-only-secret', pushedAuthorizationRequests: true }));
    expect([[...authorizationUrl.searchParams.keys()], callback.status]).toEqual([['client_id', 'request_uri'], 303]);
  });

  it('should turn PAR on by itself when the AS metadata says require_pushed_authorization_requests', async () => {
    const { authorizationUrl, callback } = await logIn(discovered(strict));
    expect([[...authorizationUrl.searchParams.keys()], callback.status]).toEqual([['client_id', 'request_uri'], 303]);
    expect((await strict.requests()).map((r) => r.endpoint)).toEqual(['/request', '/token']);
  });

  it('should leave the plain authorization request unchanged when off', async () => {
    const { authorizationUrl, callback } = await logIn(discovered(as));
    expect([...authorizationUrl.searchParams.keys()]).toEqual(['prompt', 'response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'nonce']);
    expect(callback.status).toBe(303);
    expect((await as.requests()).map((r) => r.endpoint)).toEqual(['/token']);
  });

  it('should answer 502 when the PAR endpoint refuses, quoting neither the pushed parameters nor the secret', async () => {
    const { app } = createTestApp({ oauth: discovered(as, { pushedAuthorizationRequests: true }) });
    await as.failNext({ path: '/request', status: 400, body: { error: 'invalid_request', error_description: 'echo rp-basic-secret' } });
    const res = await request(app).get('/login').expect(502);
    expect([res.body, res.headers.location]).toEqual([{ error: 'TokenEndpointError', code: 'OAUTH_TOKEN_ENDPOINT_ERROR', message: 'The sign-in service failed; try again.' }, undefined]);

    await as.failNext({ path: '/request', status: 400, body: { error: 'invalid_request', error_description: `bad ${REDIRECT_URI}` } });
    const err = (await pushAuthorizationRequest(target(), new URLSearchParams({ client_id: 'rp-basic', redirect_uri: REDIRECT_URI, state: 'st-123456789012345' })).catch(
      (e: unknown) => e,
    )) as TokenEndpointError;
    expect([err.name, err.status, err.message, err.error, err.errorDescription]).toEqual([
      'TokenEndpointError',
      502,
      'The pushed authorization request endpoint rejected the request with "invalid_request" (HTTP 400).',
      'invalid_request',
      undefined,
    ]);
  });

  it('should answer 500 invalid_client when the AS refuses the client, and 502 for an answer without a request_uri', async () => {
    const wrong = (await pushAuthorizationRequest(
      { ...target(), client: { ...target().client, clientSecret: 'wrong' } },
      new URLSearchParams({ response_type: 'code', redirect_uri: REDIRECT_URI }),
    ).catch((e: unknown) => e)) as TokenEndpointError;
    expect([wrong.status, wrong.error, wrong.message]).toEqual([500, 'invalid_client', 'The pushed authorization request endpoint rejected the request with "invalid_client" (HTTP 401).']);

    await as.failNext({ path: '/request', status: 201, body: { expires_in: 60 } });
    const { app } = createTestApp({ oauth: discovered(as, { pushedAuthorizationRequests: true }) });
    expect((await request(app).get('/login').expect(502)).body.code).toBe('OAUTH_INVALID_TOKEN_RESPONSE');
    await as.failNext({ path: '/request', status: 201, body: { expires_in: 60 } });
    const err = (await pushAuthorizationRequest(target(), new URLSearchParams()).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe('The pushed authorization request endpoint answered HTTP 201 without a usable request_uri.');
  });

  it('should answer 504 when the PAR endpoint does not answer within httpTimeoutMs', async () => {
    const hang: NonNullable<BackendClientOptions['fetch']> = (input, init) =>
      String(input).endsWith('/request') ? new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason))) : fetch(input, init);
    const { app } = createTestApp({ oauth: { ...discovered(as, { pushedAuthorizationRequests: true }), httpTimeoutMs: 200, fetch: hang } });
    expect((await request(app).get('/login').expect(504)).body).toEqual({ error: 'TimeoutError', code: 'OAUTH_TIMEOUT', message: 'The sign-in service failed; try again.' });
    const err = (await pushAuthorizationRequest({ ...target(), fetch: hang, timeoutMs: 100 }, new URLSearchParams()).catch((e: unknown) => e)) as Error;
    expect([err.name, err.message]).toEqual(['TimeoutError', 'The pushed authorization request endpoint did not answer in time.']);
  });

  it('should push through the `fetch` option', async () => {
    const seen: string[] = [];
    const { app } = createTestApp({
      oauth: { ...discovered(as, { pushedAuthorizationRequests: true }), fetch: (input, init) => (seen.push(`${init?.method ?? 'GET'} ${String(input)}`), fetch(input, init)) },
    });
    await request(app).get('/login').expect(302);
    expect(seen).toEqual([`GET ${as.issuer}/.well-known/openid-configuration`, `POST ${as.endpoints.pushedAuthorizationRequest}`]);
  });
});
