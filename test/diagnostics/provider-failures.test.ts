import { format } from 'node:util';
import createDebug from 'debug';
import session from 'express-session';
import request from 'supertest';
import { expireAccessToken } from 'express-oauth2-session/testing';
import { oauthMiddleware } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { loginWithoutBrowser, pathOf } from '../support/login-flow';
import { providerOptions, REDIRECT_URI } from '../support/test-app';
import { HTML, newcomerApp, recordProcessWarnings } from './helpers';

// Issue 23, item 1: a failed code exchange or discovery is logged with its real reason (once per
// cause, secrets redacted) without any code in the app; a missing clientSecret warns at startup.
const WRONG_SECRET = 'wrong-secret-value-0123456789';
let as: TestAuthorizationServer;
let processWarnings: ReturnType<typeof recordProcessWarnings>;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI] });
  processWarnings = recordProcessWarnings();
});
afterAll(async () => {
  processWarnings.restore();
  await as.stop();
});

async function callback(agent: request.Agent, accept = 'application/json') {
  const start = await agent.get('/login').expect(302);
  const { callbackUrl } = await loginWithoutBrowser(start.headers.location as string, { user: 'alice' });
  return agent.get(pathOf(callbackUrl)).set('Accept', accept);
}

describe('wrong client secret (invalid_client at the token endpoint)', () => {
  it('should log the real reason once (invalid_client, HTTP 401, the fix) with the secret redacted, and emit an error event', async () => {
    const { app, warnings, errors } = newcomerApp(providerOptions(as, { clientSecret: WRONG_SECRET }));
    const res = await callback(request.agent(app));
    expect([res.status, res.body]).toEqual([500, { error: 'TokenEndpointError', code: 'OAUTH_TOKEN_ENDPOINT_ERROR', message: 'The sign-in service failed; try again.' }]);
    await callback(request.agent(app));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.code).toBe('OAUTH_PROVIDER_FAILURE');
    expect(warnings[0]!.message).toMatch(
      /^\[provider "default"\] GET \/callback failed \(OAUTH_TOKEN_ENDPOINT_ERROR, HTTP 500 to the browser\): The token endpoint rejected the request with "invalid_client" \(HTTP 401\)\. (Provider says: "[^"]*"\. )?The provider refused the client credentials: check clientId and clientSecret \(an unset environment variable leaves clientSecret undefined, which makes a public client\) and tokenEndpointAuthMethod\.$/,
    );
    expect(JSON.stringify(warnings)).not.toContain(WRONG_SECRET);
    expect(errors).toEqual([
      { provider: 'default', code: 'OAUTH_TOKEN_ENDPOINT_ERROR', status: 500 },
      { provider: 'default', code: 'OAUTH_TOKEN_ENDPOINT_ERROR', status: 500 },
    ]);
    expect(processWarnings.codes()).toContain('OAUTH_PROVIDER_FAILURE');
  });

  it('should render the "misconfigured" page, with the real message for the developer in development', async () => {
    const { app } = newcomerApp(providerOptions(as, { clientSecret: WRONG_SECRET }));
    const page = await callback(request.agent(app), HTML);
    expect(page.status).toBe(500);
    expect(page.text).toContain('<h1>This site’s sign-in is not set up correctly</h1>');
    expect(page.text).toContain('<p>The token endpoint rejected the request with &#34;invalid_client&#34; (HTTP 401).</p>');
    expect(page.text).not.toContain(WRONG_SECRET);
  });
});

describe('clientSecret left unset', () => {
  it('should warn at startup that the provider is a public client, naming the option and both fixes', () => {
    const before = processWarnings.codes().length;
    const { clientSecret: _unused, ...withoutSecret } = providerOptions(as) as { clientSecret?: string };
    oauthMiddleware({ ...withoutSecret, clientSecret: process.env.DIAGNOSTICS_TEST_UNSET_SECRET } as never);
    expect(processWarnings.codes().slice(before)).toEqual(['OAUTH_PUBLIC_CLIENT']);
    const spy = jest.mocked(process.emitWarning);
    expect(String(spy.mock.calls.at(-1)![0])).toBe(
      'express-oauth2-session: [provider "default"] `clientSecret` is not set, so this provider is used as a public client (no client authentication, PKCE only); a confidential client then fails every login with "invalid_client". Fix: set `clientSecret` (is its environment variable unset?), or set `tokenEndpointAuthMethod: \'none\'` if the client is public.',
    );
  });

  it('should not warn for an explicitly public client or a client with a secret', () => {
    const before = processWarnings.codes().length;
    const { clientSecret: _unused, ...withoutSecret } = providerOptions(as) as { clientSecret?: string };
    oauthMiddleware({ ...withoutSecret, tokenEndpointAuthMethod: 'none' } as never);
    oauthMiddleware(providerOptions(as));
    expect(processWarnings.codes().slice(before)).toEqual([]);
  });
});

describe('discovery', () => {
  it('should name both issuers and the trailing slash when the discovered issuer differs', async () => {
    const { app, warnings } = newcomerApp(providerOptions(as, { issuer: `${as.issuer}/`, authorizationUrl: undefined, tokenUrl: undefined }));
    const res = await request(app).get('/login').set('Accept', 'application/json').expect(502);
    expect(res.body.code).toBe('OAUTH_DISCOVERY_ERROR');
    const expected = `The discovery document names issuer "${as.issuer}", but the configured issuer is "${as.issuer}/"; they must be identical (OIDC Discovery 4.3). Set \`issuer\` to the provider's value if you trust it. They differ only in the trailing slash: copy the issuer exactly as the provider writes it.`;
    expect(res.body.message).toBe('The sign-in service failed; try again.');
    expect(warnings.map((w) => w.message)).toEqual([`[provider "default"] GET /login failed (OAUTH_DISCOVERY_ERROR, HTTP 502 to the browser): ${expected}`]);
    const page = await request(app).get('/login').set('Accept', HTML).expect(502);
    expect(page.text).toContain('<h1>This site’s sign-in is not set up correctly</h1>');
    expect(page.text).toContain(`<p>The discovery document names issuer &#34;${as.issuer}&#34;, but the configured issuer is &#34;${as.issuer}/&#34;`);
  });

  it('should log why discovery failed (the HTTP status) and render the "try later" page', async () => {
    const { app, warnings } = newcomerApp(providerOptions(as, { issuer: `${as.issuer}/missing`, authorizationUrl: undefined, tokenUrl: undefined }));
    const page = await request(app).get('/login').set('Accept', HTML).expect(503);
    expect(page.text).toContain('<h1>Sign-in is temporarily unavailable</h1>');
    expect(page.text).toContain('<a href="/login">Try again</a>');
    expect(warnings.map((w) => w.message)).toEqual([
      `[provider "default"] GET /login failed (OAUTH_DISCOVERY_ERROR, HTTP 503 to the browser): Discovery of ${as.issuer}/missing failed; try again shortly. Cause: HTTP 404.`,
    ]);
  });
});

describe('redaction', () => {
  it('should replace a configured client secret that appears in a warning, and leave short test secrets alone', async () => {
    // The issuer URL is part of the discovery message: configure it (also) as the client secret.
    const issuer = `${as.issuer}/missing`;
    const { app, warnings } = newcomerApp(providerOptions(as, { issuer, clientSecret: issuer, authorizationUrl: undefined, tokenUrl: undefined }));
    await request(app).get('/login').expect(503);
    expect(warnings.map((w) => w.message)).toEqual([
      '[provider "default"] GET /login failed (OAUTH_DISCOVERY_ERROR, HTTP 503 to the browser): Discovery of [redacted] failed; try again shortly. Cause: HTTP 404.',
    ]);
    const short = newcomerApp(providerOptions(as, { issuer, clientSecret: 's', authorizationUrl: undefined, tokenUrl: undefined }));
    await request(short.app).get('/login').expect(503);
    expect(short.warnings[0]!.message).toContain('Discovery of http://');
  });
});

describe('a refresh the provider refuses (the client secret was rotated at the provider)', () => {
  it('should log the real reason once, naming the refresh', async () => {
    const store = new session.MemoryStore();
    const { app, warnings } = newcomerApp(providerOptions(as), { store, routes: (a) => a.get('/me', (req, res, next) => void req.oauth.get('/me').then((r) => res.sendStatus(r.status), next)) });
    const agent = request.agent(app);
    await callback(agent).then((r) => expect(r.status).toBe(303));
    const sid = (await agent.get('/session-id')).text;
    await expireAccessToken(store, sid);
    await as.failNextTokenRequest({ status: 401, body: { error: 'invalid_client' } });
    await agent.get('/me').set('Accept', 'application/json').expect(500);
    expect(warnings.map((w) => w.message)).toEqual([
      '[provider "default"] refresh failed (OAUTH_TOKEN_ENDPOINT_ERROR): The token endpoint rejected the request with "invalid_client" (HTTP 401). The provider refused the client credentials: check clientId and clientSecret (an unset environment variable leaves clientSecret undefined, which makes a public client) and tokenEndpointAuthMethod.',
    ]);
  });
});

describe('the debug log', () => {
  it('should print each warning under DEBUG=express-oauth2-session:warn', async () => {
    const lines: string[] = [];
    const previous = createDebug.log;
    createDebug.enable('express-oauth2-session:warn');
    createDebug.log = (...args: unknown[]) => void lines.push(format(...args));
    try {
      const { app } = newcomerApp(providerOptions(as, { clientSecret: WRONG_SECRET }));
      await callback(request.agent(app));
    } finally {
      createDebug.disable();
      createDebug.log = previous;
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      'express-oauth2-session:warn OAUTH_PROVIDER_FAILURE: [provider "default"] GET /callback failed (OAUTH_TOKEN_ENDPOINT_ERROR, HTTP 500 to the browser): The token endpoint rejected the request with "invalid_client" (HTTP 401).',
    );
    expect(lines[0]).not.toContain(WRONG_SECRET);
  });
});
