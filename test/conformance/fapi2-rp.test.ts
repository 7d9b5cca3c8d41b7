import http from 'node:http';
import request from 'supertest';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { startFapiProvider, type FapiProvider } from '../support/fapi-provider';
import { authorize, pathOf } from '../support/login-flow';
import { createTestApp } from '../support/test-app';

// FAPI 2.0 Message Signing client plan, the JARM modules: each forged response is refused with 400,
// no login and zero token requests. The provider's keys are served from a JWKS the test owns, so a
// response signed by it isolates the one claim each module changes.
let fapi: FapiProvider;
let jwks: http.Server;
let jwksUri: string;
let key: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
beforeAll(async () => {
  fapi = await startFapiProvider();
  const pair = await generateKeyPair('PS256', { extractable: true });
  key = pair.privateKey;
  const body = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'op', alg: 'PS256', use: 'sig' }] });
  jwks = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', () => resolve()));
  jwksUri = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/jwks`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => jwks?.close(() => resolve()));
  await fapi?.as.stop();
});

async function forged(change: (claims: JWTPayload) => JWTPayload, sign: (claims: JWTPayload) => Promise<string> = (c) => new SignJWT(c).setProtectedHeader({ alg: 'PS256', kid: 'op' }).sign(key)) {
  const test = createTestApp({ oauth: fapi.signedOptions({ jwksUri }) });
  const agent = request.agent(test.app);
  const { callbackUrl } = await authorize(agent);
  const honest = decodeJwt(new URL(callbackUrl).searchParams.get('response')!);
  await fapi.as.clearRequests();
  const url = new URL(callbackUrl);
  url.search = new URLSearchParams({ response: await sign(change({ ...honest })) }).toString();
  const res = await agent.get(pathOf(url.toString()));
  expect([res.status, res.body.code]).toEqual([400, 'OAUTH_INVALID_CALLBACK']);
  expect((await agent.get('/session')).body.authenticated).toBe(false);
  expect(await fapi.as.tokenRequests()).toEqual([]);
  return res.body.message as string;
}
const without = (name: string) => (c: JWTPayload) => Object.fromEntries(Object.entries(c).filter(([k]) => k !== name));

describe('OIDF FAPI 2.0 Message Signing RP: JARM', () => {
  it('fapi2-security-profile-final-client-test-ensure-jarm-without-iss-fails: refuses a JARM response without iss', async () => {
    expect(await forged(without('iss'))).toContain('iss');
  });
  it('fapi2-security-profile-final-client-test-ensure-jarm-with-invalid-iss-fails: refuses a JARM response from another issuer', async () => {
    expect(await forged((c) => ({ ...c, iss: 'https://attacker.example' }))).toContain('iss');
  });
  it('fapi2-security-profile-final-client-test-ensure-jarm-without-aud-fails: refuses a JARM response without aud', async () => {
    expect(await forged(without('aud'))).toContain('aud');
  });
  it('fapi2-security-profile-final-client-test-ensure-jarm-with-invalid-aud-fails: refuses a JARM response for another client', async () => {
    expect(await forged((c) => ({ ...c, aud: 'another-client' }))).toContain('aud');
  });
  it('fapi2-security-profile-final-client-test-ensure-jarm-without-exp-fails: refuses a JARM response without exp', async () => {
    expect(await forged(without('exp'))).toContain('exp');
  });
  it('fapi2-security-profile-final-client-test-ensure-jarm-with-expired-exp-fails: refuses an expired JARM response', async () => {
    expect(await forged((c) => ({ ...c, exp: Math.floor(Date.now() / 1000) - 120 }))).toContain('exp');
  });
  it('fapi2-security-profile-final-client-test-ensure-jarm-with-invalid-sig-fails: refuses a JARM response whose signature does not verify', async () => {
    const sign = async (c: JWTPayload) => {
      const jwt = await new SignJWT(c).setProtectedHeader({ alg: 'PS256', kid: 'op' }).sign(key);
      return `${jwt.slice(0, -6)}${jwt.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA'}`;
    };
    await forged((c) => c, sign);
  });
  it('fapi2-security-profile-final-client-test-ensure-jarm-signature-is-not-none: refuses an unsigned (alg none) JARM response', async () => {
    const none = async (c: JWTPayload) => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(c)).toString('base64url')}.`;
    await forged((c) => c, none);
  });
});
