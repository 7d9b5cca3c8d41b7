import { createPublicKey, createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { authenticateFormRequest, JWT_BEARER_ASSERTION_TYPE, signClientAssertion, type ClientAuthentication } from '../../lib/protocol/client-assertion';
import type { ClientAssertionKey } from '../../lib/config/options';

// RFC 7523 client assertions, signed with jose and checked here with jose against the public key.
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const ed = generateKeyPairSync('ed25519').privateKey;
const AUD = 'https://as.example';

async function verified(jwt: string, key: KeyObject) {
  const verifyKey = key.type === 'secret' ? key : createPublicKey(key);
  const { payload, protectedHeader } = await jwtVerify(jwt, verifyKey, { audience: AUD, issuer: 'app-1', subject: 'app-1' });
  return { payload, protectedHeader };
}

describe('signClientAssertion', () => {
  it.each([
    ['RS256', rsa],
    ['ES256', ec],
    ['EdDSA', ed],
  ] as const)('should sign with %s: iss = sub = client_id, aud, 60 s lifetime, a 256-bit jti', async (alg, key) => {
    const now = Date.UTC(2030, 0, 1);
    jest.useFakeTimers({ now });
    try {
      const jwt = await signClientAssertion('app-1', { key, alg, kid: undefined }, AUD, now);
      const { payload, protectedHeader } = await verified(jwt, key);
      expect(protectedHeader).toEqual({ alg, typ: 'JWT' });
      expect(payload).toEqual({ iss: 'app-1', sub: 'app-1', aud: AUD, iat: now / 1000, exp: now / 1000 + 60, jti: payload.jti });
      expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{43}$/);
    } finally {
      jest.useRealTimers();
    }
  });

  it('should put the JWK kid in the header and use a new jti every time (single use)', async () => {
    const signing: ClientAssertionKey = { key: ec, alg: 'ES256', kid: 'key-2024' };
    const jwts = await Promise.all([1, 2, 3].map(() => signClientAssertion('app-1', signing, AUD)));
    expect(jwts.map((j) => decodeProtectedHeader(j))).toEqual(Array(3).fill({ alg: 'ES256', typ: 'JWT', kid: 'key-2024' }));
    const jtis = await Promise.all(jwts.map(async (j) => (await verified(j, ec)).payload.jti));
    expect(new Set(jtis).size).toBe(3);
  });

  it('should sign client_secret_jwt with HS256 over the client secret', async () => {
    const secret = createSecretKey(Buffer.from('a-client-secret-of-at-least-32-bytes!!'));
    const jwt = await signClientAssertion('app-1', { key: secret, alg: 'HS256', kid: undefined }, AUD);
    expect((await verified(jwt, secret)).protectedHeader).toEqual({ alg: 'HS256', typ: 'JWT' });
  });
});

describe('authenticateFormRequest', () => {
  const base = { clientId: 'app-1', clientSecret: 's3cret' };
  const run = async (client: ClientAuthentication) => {
    const body = new URLSearchParams({ token: 't' });
    const headers = new Headers();
    const credentials = await authenticateFormRequest(client, body, headers);
    return { body: Object.fromEntries(body), authorization: headers.get('authorization'), credentials };
  };

  it('should send Basic, client_secret in the body, or client_id alone, and report the secret it sent', async () => {
    expect(await run({ ...base, authMethod: 'client_secret_basic' })).toEqual({
      body: { token: 't' },
      authorization: `Basic ${Buffer.from('app-1:s3cret').toString('base64')}`,
      credentials: ['s3cret'],
    });
    expect(await run({ ...base, authMethod: 'client_secret_post' })).toEqual({
      body: { token: 't', client_id: 'app-1', client_secret: 's3cret' },
      authorization: null,
      credentials: ['s3cret'],
    });
    expect(await run({ clientId: 'app-1', clientSecret: undefined, authMethod: 'none' })).toEqual({ body: { token: 't', client_id: 'app-1' }, authorization: null, credentials: [] });
  });

  it('should send client_id with a fresh client assertion for private_key_jwt, and no secret', async () => {
    const sent = await run({ ...base, authMethod: 'private_key_jwt', assertionKey: { key: rsa, alg: 'RS256', kid: undefined }, assertionAudience: AUD });
    const assertion = sent.body.client_assertion as string;
    expect(sent).toEqual({
      body: { token: 't', client_id: 'app-1', client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: assertion },
      authorization: null,
      credentials: [assertion],
    });
    expect((await verified(assertion, rsa)).payload.aud).toBe(AUD);
  });
});
