import http from 'node:http';
import { format, inspect } from 'node:util';
import createDebug from 'debug';
import session from 'express-session';
import request from 'supertest';
import { isOAuthError, type TokenSet } from 'express-oauth2-session';
import { expireAccessToken } from 'express-oauth2-session/testing';
import type { StoredOAuthData } from '../../lib/session/session-format';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { authorize, pathOf } from '../support/login-flow';
import { startResourceServer, type ResourceServer } from '../support/resource-server';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Checklist D (#20-#23): tokens, codes, verifiers and the client secret never reach a response, a
// URL, a log line or an error. Leak canaries (H7): every secret value of a full run is collected
// and grepped for in everything the run produced.
const SECRET = `SECRET-canary-${Math.random().toString(36).slice(2)}`;
let as: TestAuthorizationServer;
let api: ResourceServer;
beforeAll(async () => {
  as = await startAuthorizationServer({
    redirectUris: [REDIRECT_URI],
    accessTokenTTL: 300,
    rotateRefreshTokens: true,
    extraClients: [
      {
        client_id: 'canary-client',
        client_secret: SECRET,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [REDIRECT_URI],
      },
    ],
  });
  api = await startResourceServer({ issuer: as.issuer });
});
afterAll(async () => {
  await api.stop();
  await as.stop();
});

describe('#20 #21 leak canaries across login, API calls, refresh, failures and logout', () => {
  it('should never show a token, code, verifier or the client secret in responses, logs or errors', async () => {
    const secrets = new Set<string>([SECRET, Buffer.from(`canary-client:${SECRET}`).toString('base64')]);
    const collectTokens = (t?: Readonly<TokenSet>) => t && [t.accessToken, t.refreshToken, t.idToken].forEach((v) => v && secrets.add(v));
    const produced: string[] = [];
    const store = new session.MemoryStore();
    const { app } = createTestApp({
      store,
      oauth: {
        ...providerOptions(as, { clientId: 'canary-client', clientSecret: SECRET, apiBaseUrl: api.url, allowedOrigins: [api.url, as.issuer] }),
        onTokens: ({ tokens, previous }) => {
          collectTokens(tokens);
          collectTokens(previous);
        },
      },
      routes: (a) =>
        a.get('/call', async (req, res) => {
          try {
            const r = await req.oauth.get(String(req.query.url ?? '/api/me'));
            res.status(r.status).json(await r.json());
          } catch (err) {
            produced.push(inspect(err, { depth: 10, showHidden: true }), JSON.stringify(err), String(err), (err as Error).stack ?? '');
            res.status(isOAuthError(err) ? err.status : 500).json({ error: (err as Error).message });
          }
        }),
    });

    createDebug.enable('express-oauth2-session*');
    const previousLog = createDebug.log;
    createDebug.log = (...args: unknown[]) => void produced.push(format(...args));
    const writes = [jest.spyOn(process.stdout, 'write'), jest.spyOn(process.stderr, 'write')];
    try {
      expect(createDebug.enabled('simple-oauth2:client')).toBe(false); // ours does not switch on simple-oauth2's credential logging
      const agent = request.agent(app);
      const responses: request.Response[] = [];
      const { callbackUrl, authorizationUrl } = await authorize(agent);
      const code = new URL(callbackUrl).searchParams.get('code') as string;
      secrets.add(code);
      const sid0 = (await agent.get('/session')).body.sessionId as string;
      const tx = await new Promise<{ oauth?: StoredOAuthData }>((resolve) => store.get(sid0, (_e, s) => resolve(s as { oauth?: StoredOAuthData })));
      Object.values(tx.oauth?.tx ?? {}).forEach((t) => t.v && secrets.add(t.v)); // PKCE verifiers
      void authorizationUrl;
      responses.push(await agent.get(pathOf(callbackUrl)));
      const sid = (await agent.get('/session')).body.sessionId as string;
      responses.push(await agent.get('/call'), await agent.get(`/call?url=${encodeURIComponent(`${as.issuer}/me`)}`)); // userinfo
      await expireAccessToken(store, sid);
      responses.push(await agent.get('/call')); // refresh (rotation)
      api.rejectNext(1);
      responses.push(await agent.get('/call')); // 401 invalid_token → refresh + retry
      await expireAccessToken(store, sid);
      await as.failNext({ path: '/token', status: 500, body: { error: 'server_error', error_description: 'boom' } });
      responses.push(await agent.get('/call')); // refresh fails: 502
      responses.push(await agent.get('/call?url=https%3A%2F%2Fevil.example%2Fsteal')); // refused origin
      responses.push(await agent.get('/call')); // recovers
      responses.push(await agent.post('/logout'));
      for (const r of responses) produced.push(JSON.stringify(r.headers), r.text ?? '');
      for (const spy of writes) for (const call of spy.mock.calls) produced.push(String(call[0]));

      expect(responses.map((r) => r.status)).toEqual([303, 200, 200, 200, 200, 502, 500, 200, 303]);
      expect(secrets.size).toBeGreaterThanOrEqual(8); // secret, basic credentials, code, verifier, 2+ access, 2+ refresh, id token
      expect(produced.join('\n').length).toBeGreaterThan(1000);
      const everything = produced.join('\n');
      for (const secret of secrets) expect(everything.includes(secret) ? `leaked: ${secret.slice(0, 12)}…` : 'clean').toBe('clean');
    } finally {
      writes.forEach((w) => w.mockRestore());
      createDebug.log = previousLog;
      createDebug.disable();
    }
  });
});

describe('#22 callback page hygiene', () => {
  it('should answer success with a bodyless 303 and every callback response with no-referrer', async () => {
    const { app } = createTestApp({ oauth: providerOptions(as) });
    const agent = request.agent(app);
    const { callbackUrl } = await authorize(agent);
    const ok = await agent.get(pathOf(callbackUrl)).expect(303);
    expect(ok.headers['referrer-policy']).toBe('no-referrer');
    expect(ok.text ?? '').not.toMatch(/<script|<img/);
    const bad = await agent.get('/callback?state=x&code=y');
    expect([bad.status, bad.headers['referrer-policy']]).toEqual([400, 'no-referrer']);
  });
});

describe('#23 where req.oauth sends the bearer token', () => {
  it('should not follow a resource server redirect to another origin', async () => {
    let evilHits = 0;
    let evilAuthorization: string | undefined;
    const evil = http.createServer((req, res) => {
      evilHits += 1;
      evilAuthorization = req.headers.authorization;
      res.end('{}');
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', () => resolve()));
    const evilUrl = `http://127.0.0.1:${(evil.address() as { port: number }).port}`;
    const redirecting = http.createServer((_req, res) => res.writeHead(302, { location: `${evilUrl}/collect` }).end());
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', () => resolve()));
    const rsUrl = `http://127.0.0.1:${(redirecting.address() as { port: number }).port}`;
    try {
      const { app } = createTestApp({ oauth: providerOptions(as, { apiBaseUrl: rsUrl }), routes: (a) => a.get('/call', async (req, res) => res.json({ status: (await req.oauth.get('/x')).status })) });
      const agent = request.agent(app);
      const { callbackUrl } = await authorize(agent);
      await agent.get(pathOf(callbackUrl)).expect(303);
      expect((await agent.get('/call').expect(200)).body).toEqual({ status: 302 });
      expect([evilHits, evilAuthorization]).toEqual([0, undefined]);
    } finally {
      evil.close();
      redirecting.close();
    }
  });

  it('should refuse non-loopback http API origins at startup', async () => {
    const { oauthMiddleware } = await import('express-oauth2-session');
    expect(() => oauthMiddleware(providerOptions(as, { apiBaseUrl: 'http://api.example' }))).toThrow('`apiBaseUrl` must use https (http is allowed only for loopback hosts)');
  });
});
