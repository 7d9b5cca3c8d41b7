// RFC 7523 client authentication keys, checked at startup: a `private_key_jwt` key must be a usable
// private key whose type fits the JWS alg; `client_secret_jwt` signs with the client secret.
import { createPrivateKey, createSecretKey, KeyObject } from 'node:crypto';
import type { OptionPath } from './assert.js';
import type { ClientAssertionAlg, ClientAssertionKey, ProviderOptions, TokenEndpointAuthMethod } from './options.js';

const HMAC_ALGS: readonly ClientAssertionAlg[] = ['HS256', 'HS384', 'HS512'];
const RSA_ALGS: readonly ClientAssertionAlg[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
/** The algs each key type can sign with; the first is the default. */
const ALGS_BY_KEY: Readonly<Record<string, readonly ClientAssertionAlg[]>> = {
  rsa: RSA_ALGS,
  'rsa-pss': ['PS256', 'PS384', 'PS512'],
  'ec:prime256v1': ['ES256'],
  'ec:secp384r1': ['ES384'],
  'ec:secp521r1': ['ES512'],
  ed25519: ['EdDSA'],
};
const MIN_RSA_BITS = 2048;

type AssertionOptions = Pick<ProviderOptions, 'clientSecret' | 'clientAssertionKey' | 'clientAssertionAlg'>;

function importPrivateKey(value: unknown, at: OptionPath): KeyObject {
  if (value instanceof KeyObject) {
    if (value.type !== 'private') throw at.error('must be a private key (this KeyObject is not)');
    return value;
  }
  try {
    if (typeof value === 'string') return createPrivateKey(value);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return createPrivateKey({ key: value as never, format: 'jwk' });
  } catch {
    throw at.error('is not a usable private key: give a private JWK object, a PEM string or a KeyObject');
  }
  throw at.error('must be a private JWK object, a PEM string or a KeyObject');
}

function keyTypeName(key: KeyObject): string {
  const type = key.asymmetricKeyType ?? 'unknown';
  return type === 'ec' ? `ec:${key.asymmetricKeyDetails?.namedCurve ?? 'unknown'}` : type;
}

function chooseAlg(supported: readonly ClientAssertionAlg[], requested: unknown, fromJwk: unknown, at: OptionPath): ClientAssertionAlg {
  if (requested !== undefined) {
    if (!supported.includes(requested as ClientAssertionAlg)) throw at.error(`must be one of ${supported.join(', ')} for this key`);
    return requested as ClientAssertionAlg;
  }
  if (typeof fromJwk === 'string' && supported.includes(fromJwk as ClientAssertionAlg)) return fromJwk as ClientAssertionAlg;
  return supported[0] as ClientAssertionAlg;
}

/**
 * The client assertion key of a `private_key_jwt` / `client_secret_jwt` client, or undefined for the
 * other methods (which must not be given `clientAssertionKey` / `clientAssertionAlg`). Throws a
 * `TypeError` naming the option when the key is missing, public, of an unsupported type or too
 * weak, or when the alg does not fit it.
 */
export function resolveClientAssertionKey(input: AssertionOptions, method: TokenEndpointAuthMethod, at: OptionPath): ClientAssertionKey | undefined {
  const keyAt = at.key('clientAssertionKey');
  const algAt = at.key('clientAssertionAlg');
  if (method === 'client_secret_jwt') {
    if (input.clientAssertionKey !== undefined) throw keyAt.error('is not used with tokenEndpointAuthMethod "client_secret_jwt" (it signs with `clientSecret`); remove it');
    const alg = chooseAlg(HMAC_ALGS, input.clientAssertionAlg, undefined, algAt);
    return Object.freeze({ key: createSecretKey(Buffer.from(input.clientSecret as string, 'utf8')), alg, kid: undefined });
  }
  if (method !== 'private_key_jwt') {
    if (input.clientAssertionKey !== undefined) throw keyAt.error('is used only with tokenEndpointAuthMethod "private_key_jwt"; set that method or remove the key');
    if (input.clientAssertionAlg !== undefined) throw algAt.error('is used only with tokenEndpointAuthMethod "private_key_jwt" or "client_secret_jwt"');
    return undefined;
  }
  if (input.clientAssertionKey === undefined) throw keyAt.error('is required with tokenEndpointAuthMethod "private_key_jwt" (a private JWK, PEM string or KeyObject)');
  return resolvePrivateSigningKey(input.clientAssertionKey, keyAt, (supported, jwkAlg) => chooseAlg(supported, input.clientAssertionAlg, jwkAlg, algAt));
}

/**
 * A private signing key (JWK, PEM or KeyObject) of a supported type and strength, with its JWS alg:
 * `pickAlg` chooses among the algs the key type can sign with (default: the JWK's `alg`, else the
 * first). Used for client assertions and for JAR request objects.
 */
export function resolvePrivateSigningKey(
  value: unknown,
  keyAt: OptionPath,
  pickAlg: (supported: readonly ClientAssertionAlg[], jwkAlg: unknown) => ClientAssertionAlg = (supported, jwkAlg) => chooseAlg(supported, undefined, jwkAlg, keyAt),
): ClientAssertionKey {
  const key = importPrivateKey(value, keyAt);
  const supported = ALGS_BY_KEY[keyTypeName(key)];
  if (!supported) throw keyAt.error(`has an unsupported key type (${keyTypeName(key)}); use RSA, EC P-256/P-384/P-521 or Ed25519`);
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits !== undefined && bits < MIN_RSA_BITS) throw keyAt.error(`is a ${bits}-bit RSA key; RFC 7518 asks for at least ${MIN_RSA_BITS} bits`);
  const jwk = typeof value === 'object' && value !== null && !(value instanceof KeyObject) ? (value as Record<string, unknown>) : undefined;
  const alg = pickAlg(supported, jwk?.alg);
  const kid = typeof jwk?.kid === 'string' && jwk.kid.length > 0 ? jwk.kid : undefined;
  return Object.freeze({ key, alg, kid });
}
