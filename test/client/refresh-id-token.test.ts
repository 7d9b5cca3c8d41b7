import { SignJWT } from 'jose';
import request from 'supertest';
import type { TokenSet } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { login } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// An ID token in a refresh response is verified by the login rules (nonce aside) against the
// login's own ID token, or dropped: never stored unverified, never reused as id_token_hint (issue 13 #4).
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 });
});
afterAll(() => as.stop());

function appShowingTokens() {
  const { app } = createTestApp({
    oauth: providerOptions(as, { scope: ['openid', 'offline_access'] }),
    routes: (a) => {
      a.post('/refresh', (req, res, next) => {
        req.oauth.refresh().then((t: Readonly<TokenSet>) => res.json({ idToken: t.idToken ?? null, accessToken: t.accessToken }), next);
      });
      a.get('/token', (req, res, next) => {
        req.oauth.getToken().then((t) => res.json({ idToken: t?.idToken ?? null }), next);
      });
    },
  });
  return request.agent(app);
}

describe('ID token in a refresh response', () => {
  it('should keep the login\'s ID token when the refreshed one is forged (bad signature)', async () => {
    const agent = appShowingTokens();
    await login(agent);
    const original = (await agent.get('/token')).body.idToken as string;
    expect(original.split('.')).toHaveLength(3);
    const forged = await new SignJWT({ sub: 'mallory', nonce: 'x' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(as.issuer)
      .setAudience('rp-basic')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('not-the-provider-key-not-the-provider-key'));
    await as.failNext({ status: 200, body: { access_token: 'at-after-forged-refresh', token_type: 'Bearer', expires_in: 300, id_token: forged } });
    const refreshed = (await agent.post('/refresh').expect(200)).body as { idToken: string; accessToken: string };
    expect(refreshed).toEqual({ idToken: original, accessToken: 'at-after-forged-refresh' });
  });

  it('should store the refreshed ID token when it verifies and names the same user', async () => {
    const agent = appShowingTokens();
    await login(agent);
    const original = (await agent.get('/token')).body.idToken as string;
    // ID tokens carry whole-second times and no jti: one issued in the same second as the login's
    // can be byte-identical, which would make "stored the new one" unobservable.
    await new Promise((r) => setTimeout(r, 1100));
    const refreshed = (await agent.post('/refresh').expect(200)).body as { idToken: string };
    expect(refreshed.idToken).not.toBe(original);
    expect(JSON.parse(Buffer.from(refreshed.idToken.split('.')[1]!, 'base64url').toString()).sub).toBe('alice');
  });
});
