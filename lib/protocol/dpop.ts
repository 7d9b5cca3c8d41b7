import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type KeyLike } from 'jose';

/**
 * RFC 9449 DPoP: a key pair per login (ES256), kept as a private JWK in the login's token record
 * (server-side, so every process can sign), and the proofs made with it.
 */

/** The private JWK of a login's DPoP key (EC P-256, `d` included). */
export type DpopKey = JWK & { kty: 'EC'; crv: 'P-256'; x: string; y: string; d: string };

/** A new ES256 key pair for one login (or one backend client). */
export async function generateDpopKey(): Promise<DpopKey> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { kty: 'EC', crv: 'P-256', x: jwk.x as string, y: jwk.y as string, d: jwk.d as string };
}

/** A stored value is a usable DPoP key (records from elsewhere are not trusted blindly). */
export function isDpopKey(value: unknown): value is DpopKey {
  const k = value as Partial<DpopKey> | undefined;
  return typeof k === 'object' && k !== null && k.kty === 'EC' && k.crv === 'P-256' && typeof k.x === 'string' && typeof k.y === 'string' && typeof k.d === 'string';
}

const MAX_IMPORTED = 1000;
const MAX_NONCE_ORIGINS = 100;
/** Longest `DPoP-Nonce` kept and echoed: servers send tens of characters; a longer one is ignored. */
export const MAX_DPOP_NONCE_LENGTH = 512;
/** RFC 9449 §8.1: `nonce = 1*NQCHAR`, NQCHAR = %x21 / %x23-5B / %x5D-7E (no space, `"` or `\`). */
const NQCHAR_NONCE = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** RFC 9449 §4.2 `htu`: the target URI without query and fragment. */
export function htuOf(url: string | URL): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

/** RFC 9449 §4.2 `ath`: base64url SHA-256 of the access token. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('base64url');
}

export interface ProofTarget {
  method: string;
  url: string | URL;
  /** Resource requests: the DPoP-bound access token (its hash goes in `ath`). */
  accessToken?: string;
  /** The server's `DPoP-Nonce`; defaults to the last one its owner saw from that origin. */
  nonce?: string;
}

/**
 * The DPoP state of one owner (a provider link of a middleware instance, or one backend grant
 * client): imported signing keys (bounded, oldest dropped first) and the last `DPoP-Nonce` each
 * origin sent (RFC 9449 §8, §9). Nothing is shared between owners.
 */
export class DpopProofs {
  readonly #imported = new Map<string, Promise<KeyLike | Uint8Array>>();
  readonly #nonces = new Map<string, string>();

  /** A DPoP proof JWT (`typ: dpop+jwt`, public `jwk` header, `htm`, `htu`, `iat`, `jti`, `ath`, `nonce`). */
  async create(jwk: DpopKey, target: ProofTarget, now = Date.now()): Promise<string> {
    const nonce = target.nonce ?? this.nonceFor(target.url);
    const claims: Record<string, string> = { htm: target.method.toUpperCase(), htu: htuOf(target.url) };
    if (target.accessToken !== undefined) claims.ath = accessTokenHash(target.accessToken);
    if (nonce !== undefined) claims.nonce = nonce;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y } })
      .setIssuedAt(Math.floor(now / 1000))
      .setJti(randomUUID())
      .sign(await this.#signingKey(jwk));
  }

  /** The last `DPoP-Nonce` an origin sent (RFC 9449 §8, §9). */
  nonceFor(url: string | URL): string | undefined {
    return this.#nonces.get(new URL(url).origin);
  }

  /**
   * Keep a server's `DPoP-Nonce` for the next proof to that origin. Returns it, if it was one: at
   * most 512 NQCHARs (RFC 9449 §8.1); anything else is ignored (neither kept nor echoed).
   */
  rememberNonce(url: string | URL, nonce: string | null | undefined): string | undefined {
    if (typeof nonce !== 'string' || nonce.length > MAX_DPOP_NONCE_LENGTH || !NQCHAR_NONCE.test(nonce)) return undefined;
    const origin = new URL(url).origin;
    if (!this.#nonces.has(origin) && this.#nonces.size >= MAX_NONCE_ORIGINS) this.#nonces.delete(this.#nonces.keys().next().value as string);
    this.#nonces.set(origin, nonce);
    return nonce;
  }

  /** The signing key of a JWK, imported once per owner (bounded cache, oldest dropped first). */
  #signingKey(jwk: DpopKey): Promise<KeyLike | Uint8Array> {
    const id = `${jwk.x}.${jwk.y}`;
    let key = this.#imported.get(id);
    if (!key) {
      if (this.#imported.size >= MAX_IMPORTED) this.#imported.delete(this.#imported.keys().next().value as string);
      key = importJWK(jwk, 'ES256');
      this.#imported.set(id, key);
    }
    return key;
  }
}

/** RFC 9449 §9: a resource server asks for a (new) nonce: `WWW-Authenticate: DPoP error="use_dpop_nonce"`. */
export function isNonceChallenge(res: Response): boolean {
  const challenge = res.headers.get('www-authenticate');
  return challenge !== null && /\bdpop\b/i.test(challenge) && /\berror\s*=\s*"?use_dpop_nonce"?/i.test(challenge);
}
