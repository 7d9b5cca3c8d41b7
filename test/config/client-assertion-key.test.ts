import { generateKeyPairSync } from 'node:crypto';
import { clientCredentials, oauthMiddleware } from 'express-oauth2-session';
import { resolveConfig } from '../../lib/config/resolve';

// RFC 7523 / RFC 9126 options, validated at startup: a TypeError naming the option path.
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const x25519 = generateKeyPairSync('x25519');
const base = { clientId: 'app', authorizationUrl: 'https://as.example/auth', tokenUrl: 'https://as.example/token', redirectUri: 'https://app.example/callback' };

function refusal(options: Record<string, unknown>): string | undefined {
  try {
    oauthMiddleware({ ...base, ...options } as never);
  } catch (err) {
    return `${(err as Error).constructor.name}: ${(err as Error).message} [${(err as { code?: string }).code}]`;
  }
  return undefined;
}

describe('clientAssertionKey / clientAssertionAlg', () => {
  it.each([
    [{ tokenEndpointAuthMethod: 'private_key_jwt' }, '`clientAssertionKey` is required with tokenEndpointAuthMethod "private_key_jwt" (a private JWK, PEM string or KeyObject)'],
    [{ tokenEndpointAuthMethod: 'private_key_jwt', clientAssertionKey: rsa.publicKey }, '`clientAssertionKey` must be a private key (this KeyObject is not)'],
    [
      { tokenEndpointAuthMethod: 'private_key_jwt', clientAssertionKey: rsa.publicKey.export({ format: 'jwk' }) },
      '`clientAssertionKey` is not a usable private key: give a private JWK object, a PEM string or a KeyObject',
    ],
    [
      { tokenEndpointAuthMethod: 'private_key_jwt', clientAssertionKey: '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----' },
      '`clientAssertionKey` is not a usable private key: give a private JWK object, a PEM string or a KeyObject',
    ],
    [{ tokenEndpointAuthMethod: 'private_key_jwt', clientAssertionKey: 42 }, '`clientAssertionKey` must be a private JWK object, a PEM string or a KeyObject'],
    [{ tokenEndpointAuthMethod: 'private_key_jwt', clientAssertionKey: weakRsa.privateKey }, '`clientAssertionKey` is a 1024-bit RSA key; RFC 7518 asks for at least 2048 bits'],
    [{ tokenEndpointAuthMethod: 'private_key_jwt', clientAssertionKey: x25519.privateKey }, '`clientAssertionKey` has an unsupported key type (x25519); use RSA, EC P-256/P-384/P-521 or Ed25519'],
    [{ tokenEndpointAuthMethod: 'private_key_jwt', clientAssertionKey: ec.privateKey, clientAssertionAlg: 'RS256' }, '`clientAssertionAlg` must be one of ES256 for this key'],
    [{ tokenEndpointAuthMethod: 'client_secret_jwt' }, '`clientSecret` is required with tokenEndpointAuthMethod "client_secret_jwt"'],
    [{ tokenEndpointAuthMethod: 'client_secret_jwt', clientSecret: 's', clientAssertionAlg: 'ES256' }, '`clientAssertionAlg` must be one of HS256, HS384, HS512 for this key'],
    [
      { tokenEndpointAuthMethod: 'client_secret_jwt', clientSecret: 's', clientAssertionKey: ec.privateKey },
      '`clientAssertionKey` is not used with tokenEndpointAuthMethod "client_secret_jwt" (it signs with `clientSecret`); remove it',
    ],
    [{ clientSecret: 's', clientAssertionKey: ec.privateKey }, '`clientAssertionKey` is used only with tokenEndpointAuthMethod "private_key_jwt"; set that method or remove the key'],
    [{ clientSecret: 's', clientAssertionAlg: 'HS256' }, '`clientAssertionAlg` is used only with tokenEndpointAuthMethod "private_key_jwt" or "client_secret_jwt"'],
    [{ pushedAuthorizationRequests: 'yes' }, '`pushedAuthorizationRequests` must be a boolean'],
    [{ pushedAuthorizationRequests: true }, '`pushedAuthorizationRequests` needs `issuer`: the pushed authorization request endpoint is read from its discovery document'],
  ])('should refuse %p', (options, message) => {
    expect(refusal(options)).toBe(`TypeError: oauthMiddleware: ${message} [ERR_OAUTH_CONFIG]`);
  });

  it('should refuse the same bad key from clientCredentials, labelled with that factory', () => {
    expect(() => clientCredentials({ clientId: 'svc', tokenUrl: base.tokenUrl, tokenEndpointAuthMethod: 'private_key_jwt' })).toThrow(
      'clientCredentials: `clientAssertionKey` is required with tokenEndpointAuthMethod "private_key_jwt" (a private JWK, PEM string or KeyObject)',
    );
  });

  it.each([
    ['an RSA KeyObject', { clientAssertionKey: rsa.privateKey }, 'RS256', undefined],
    ['an RSA KeyObject with PS256', { clientAssertionKey: rsa.privateKey, clientAssertionAlg: 'PS256' }, 'PS256', undefined],
    ['a P-256 PEM', { clientAssertionKey: ec.privateKey.export({ format: 'pem', type: 'pkcs8' }) }, 'ES256', undefined],
    ['an Ed25519 JWK with kid', { clientAssertionKey: { ...ed.privateKey.export({ format: 'jwk' }), kid: 'k1' } }, 'EdDSA', 'k1'],
    ['an RSA JWK with alg PS384', { clientAssertionKey: { ...rsa.privateKey.export({ format: 'jwk' }), alg: 'PS384' } }, 'PS384', undefined],
  ])('should take the alg of %s', (_name, options, alg, kid) => {
    const p = resolveConfig({ ...base, tokenEndpointAuthMethod: 'private_key_jwt', ...options } as never).single;
    expect([p?.tokenEndpointAuthMethod, p?.clientAssertion?.alg, p?.clientAssertion?.kid, p?.clientAssertion?.key.type]).toEqual(['private_key_jwt', alg, kid, 'private']);
  });

  it('should sign client_secret_jwt with HS256 over the secret, and turn PAR on only when asked', () => {
    const p = resolveConfig({ ...base, clientSecret: 'sek', tokenEndpointAuthMethod: 'client_secret_jwt' }).single;
    expect([p?.clientAssertion?.alg, p?.clientAssertion?.key.export().toString(), p?.pushedAuthorizationRequests]).toEqual(['HS256', 'sek', false]);
    const par = resolveConfig({ ...base, issuer: 'https://as.example', pushedAuthorizationRequests: true }).single;
    expect([par?.pushedAuthorizationRequests, par?.clientAssertion]).toEqual([true, undefined]);
  });
});
