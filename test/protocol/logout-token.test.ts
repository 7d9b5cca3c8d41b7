import { exportJWK, generateKeyPair, SignJWT, type JWTPayload, type KeyLike } from 'jose';
import { ASYMMETRIC_JWS_ALGS, logoutTokenAlgs, RemoteKeySets } from '../../lib/protocol/jwks';
import { BACKCHANNEL_LOGOUT_EVENT, InvalidLogoutTokenError, verifyLogoutToken } from '../../lib/protocol/logout-token';

// Logout token checks (OIDC Back-Channel Logout 1.0 §2.6) with a local signing key served
// through the injected fetch (the JWKS seam). End to end against the AS: test/http/backchannel-logout.test.ts.
const ISSUER = 'https://as.example';
const JWKS_URI = 'https://as.example/jwks-logout-token-test';
let privateKey: KeyLike;
let jwks: object;
beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  privateKey = pair.privateKey;
  jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }] };
});

const fetchJwks = async () => new Response(JSON.stringify(jwks), { headers: { 'content-type': 'application/json' } });
const expected = () => ({ issuer: ISSUER, clientId: 'rp', jwksUri: JWKS_URI, keys: new RemoteKeySets({ fetch: fetchJwks, timeoutMs: 1000 }), currentDate: new Date(1_700_000_000_000) });
const NOW = 1_700_000_000;

function sign(claims: JWTPayload, header: Record<string, unknown> = {}) {
  return new SignJWT({ iss: ISSUER, aud: 'rp', iat: NOW, exp: NOW + 120, jti: 'j1', events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, sid: 's1', sub: 'alice', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'logout+jwt', ...header })
    .sign(privateKey);
}

describe('verifyLogoutToken', () => {
  it('should return sid, sub, jti and the end of its acceptance (exp + 5 s skew) for a valid token', async () => {
    expect(await verifyLogoutToken(await sign({}), expected())).toEqual({ sid: 's1', sub: 'alice', jti: 'j1', acceptedUntil: (NOW + 125) * 1000 });
  });

  it('should accept a token without exp for 600 s after its iat', async () => {
    expect((await verifyLogoutToken(await sign({ exp: undefined }), expected())).acceptedUntil).toBe((NOW + 605) * 1000);
    await expect(verifyLogoutToken(await sign({ exp: undefined, iat: NOW - 606 }), expected())).rejects.toThrow('too old (iat)');
  });

  it.each<[string, JWTPayload, string]>([
    ['another issuer', { iss: 'https://evil.example' }, 'verification failed (ERR_JWT_CLAIM_VALIDATION_FAILED: iss)'],
    ['another audience', { aud: 'other' }, 'verification failed (ERR_JWT_CLAIM_VALIDATION_FAILED: aud)'],
    ['no iat', { iat: undefined }, 'verification failed (ERR_JWT_CLAIM_VALIDATION_FAILED: iat)'],
    ['an iat 6 s in the future', { iat: NOW + 6 }, 'issued in the future (iat)'],
    ['an exp passed', { exp: NOW - 10 }, 'verification failed (ERR_JWT_EXPIRED: exp)'],
    ['no jti', { jti: undefined }, 'verification failed (ERR_JWT_CLAIM_VALIDATION_FAILED: jti)'],
    ['no events', { events: undefined }, 'no back-channel logout event'],
    ['another event', { events: { 'http://schemas.openid.net/event/other': {} } }, 'no back-channel logout event'],
    ['an event that is not an object', { events: { [BACKCHANNEL_LOGOUT_EVENT]: 'yes' } }, 'no back-channel logout event'],
    ['a nonce', { nonce: 'n' }, 'a logout token must not carry a nonce'],
    ['neither sid nor sub', { sid: undefined, sub: undefined }, 'neither sid nor sub'],
    ['a sid that is not a string', { sid: 7 }, 'the sid claim is not a string'],
  ])('should reject a token with %s', async (_label, claims, message) => {
    const failure = verifyLogoutToken(await sign(claims), expected());
    await expect(failure).rejects.toThrow(InvalidLogoutTokenError);
    await expect(failure).rejects.toThrow(message);
  });

  it('should accept sub alone and sid alone', async () => {
    expect(await verifyLogoutToken(await sign({ sid: undefined }), expected())).toEqual({ sid: undefined, sub: 'alice', jti: 'j1', acceptedUntil: (NOW + 125) * 1000 });
    expect(await verifyLogoutToken(await sign({ sub: undefined }), expected())).toEqual({ sid: 's1', sub: undefined, jti: 'j1', acceptedUntil: (NOW + 125) * 1000 });
  });
});

describe('logoutTokenAlgs (OIDF rp-backchannel-rpinitlogout-wrong-alg, no new setting)', () => {
  it.each([
    ['discovery lists RS256', ['RS256'], ['RS256']],
    ['discovery lists none, HS256 and ES256', ['none', 'HS256', 'ES256'], ['ES256']],
    ['discovery lists only none and HS256: every asymmetric alg, never those', ['none', 'HS256'], ASYMMETRIC_JWS_ALGS],
    ['no discovery list (configured endpoints)', undefined, ASYMMETRIC_JWS_ALGS],
  ])('%s', (_name, listed, expected) => {
    expect(logoutTokenAlgs(listed)).toEqual(expected);
    expect(logoutTokenAlgs(listed).some((alg) => alg === 'none' || alg.startsWith('HS'))).toBe(false);
  });
});
