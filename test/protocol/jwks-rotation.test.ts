import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { NEW_KID_MIN_INTERVAL_MS, RemoteKeySets, SAME_KID_COOLDOWN_MS, verifyProviderJwt } from '../../lib/protocol/jwks';

// OIDC Core §10.1.1 (OIDF rp-key-rotation-op-sign-key): after the provider rotates its signing
// keys, the first token with the new `kid` makes the key set be fetched again at once; repeats of
// one unknown `kid` and a flood of made-up ones stay rate-limited.
const ISSUER = 'https://op.example';
const JWKS_URI = `${ISSUER}/jwks`;

async function signer(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const sign = (key: KeyLike = privateKey) =>
    new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'RS256', kid }).setIssuer(ISSUER).setAudience('rp').setIssuedAt().setExpirationTime('5m').sign(key);
  return { jwk, sign };
}

describe('RemoteKeySets: signing-key rotation', () => {
  let now = 1_700_000_000_000;
  beforeEach(() => jest.spyOn(Date, 'now').mockImplementation(() => now));
  afterEach(() => jest.restoreAllMocks());

  it('should refetch at once for the first unknown kid, then rate-limit repeats of it and floods of new ones', async () => {
    const [a, b, c, d, e] = await Promise.all(['a', 'b', 'c', 'd', 'e'].map(signer));
    let published = [a!.jwk];
    let fetches = 0;
    const keys = new RemoteKeySets({
      fetch: async () => {
        fetches += 1;
        return new Response(JSON.stringify({ keys: published }), { headers: { 'content-type': 'application/json' } });
      },
      timeoutMs: 1000,
    });
    const verify = async (token: string) => {
      try {
        return (await verifyProviderJwt(token, { issuer: ISSUER, audience: 'rp', jwksUri: JWKS_URI, keys, requiredClaims: [], clockToleranceSeconds: 5 })).sub;
      } catch (err) {
        return (err as Error).message;
      }
    };

    expect([await verify(await a!.sign()), fetches]).toEqual(['alice', 1]);
    // The provider rotates to b, two seconds later: the first token with kid b refetches.
    published = [a!.jwk, b!.jwk];
    now += 2_000;
    expect([await verify(await b!.sign()), fetches]).toEqual(['alice', 2]);
    expect([await verify(await b!.sign()), fetches]).toEqual(['alice', 2]);

    // A kid the provider does not publish: one refetch, then refused without fetching until its cooldown.
    now += 2_000;
    expect([await verify(await c!.sign()), fetches]).toEqual(['ERR_JWKS_NO_MATCHING_KEY', 3]);
    // Another unknown kid right after a fetch: no second fetch within NEW_KID_MIN_INTERVAL_MS.
    now += NEW_KID_MIN_INTERVAL_MS / 10;
    expect([await verify(await e!.sign()), fetches]).toEqual(['ERR_JWKS_NO_MATCHING_KEY', 3]);
    now += 2_000;
    expect([await verify(await c!.sign()), fetches]).toEqual(['ERR_JWKS_NO_MATCHING_KEY', 3]);
    published = [a!.jwk, b!.jwk, c!.jwk, d!.jwk];
    now += SAME_KID_COOLDOWN_MS;
    expect([await verify(await c!.sign()), fetches]).toEqual(['alice', 4]);
    now += NEW_KID_MIN_INTERVAL_MS / 2;
    expect([await verify(await d!.sign()), fetches]).toEqual(['alice', 4]); // in the set just fetched: no fetch needed
  });
});
