// Signing keys and JWTs of the scriptable OpenID provider: real keys (jose), and the ways a
// conformance module asks for a token to be signed wrongly (alg none, HS256 with the client
// secret, a corrupted signature, no kid, a key the provider does not publish).
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type KeyLike } from 'jose';

export type SigningAlg = 'RS256' | 'ES256' | 'PS256';

export interface OpKey {
  kid: string;
  alg: SigningAlg;
  privateKey: KeyLike;
  /** The public JWK as the JWKS publishes it (`kid`, `alg`, `use: sig`). */
  jwk: JWK;
}

export async function newKey(alg: SigningAlg = 'RS256', kid: string = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`): Promise<OpKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** How one JWT is signed; the default is the provider's current key, its alg and kid. */
export interface Signing {
  /** Another key than the current one (e.g. the EC key for a wrong-alg logout token, or an unpublished key). */
  key?: OpKey;
  /** `'none'`: an unsecured JWT. `'HS256'`: an HMAC with `hmacSecret` (the client secret). */
  alg?: SigningAlg | 'none' | 'HS256';
  hmacSecret?: string;
  /** No `kid` in the header. */
  omitKid?: boolean;
  /** Flip bits of the signature after signing. */
  corruptSignature?: boolean;
  typ?: string;
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

export async function signJwt(claims: JWTPayload, current: OpKey, signing: Signing = {}): Promise<string> {
  const key = signing.key ?? current;
  const alg = signing.alg ?? key.alg;
  const typ = signing.typ ? { typ: signing.typ } : {};
  if (alg === 'none') return `${b64({ alg: 'none', ...typ })}.${b64(claims)}.`;
  const header = { alg, ...typ, ...(signing.omitKid || alg === 'HS256' ? {} : { kid: key.kid }) };
  const secret = alg === 'HS256' ? new TextEncoder().encode(signing.hmacSecret ?? 'a-secret-the-provider-does-not-publish') : key.privateKey;
  const jwt = await new SignJWT(claims).setProtectedHeader(header).sign(secret);
  if (!signing.corruptSignature) return jwt;
  const [h, p, s] = jwt.split('.') as [string, string, string];
  const sig = Buffer.from(s, 'base64url');
  sig[0] = (sig[0] as number) ^ 0xff;
  sig[sig.length - 1] = (sig[sig.length - 1] as number) ^ 0xff;
  return `${h}.${p}.${sig.toString('base64url')}`;
}
