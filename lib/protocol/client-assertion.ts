// Client authentication for the requests this package sends itself (revocation, PAR), and the
// RFC 7523 client assertions that every method built on JWTs sends (token endpoint included).
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ClientAssertionKey, TokenEndpointAuthMethod } from '../config/options.js';

/** RFC 7523 §2.2 `client_assertion_type`. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Seconds a client assertion is valid: one request, so short. */
export const CLIENT_ASSERTION_LIFETIME_SECONDS = 60;

/** Who the client is and how it authenticates to the AS (RFC 6749 §2.3, RFC 7523 §2.2). */
export interface ClientAuthentication {
  clientId: string;
  clientSecret: string | undefined;
  authMethod: TokenEndpointAuthMethod;
  /** `private_key_jwt` / `client_secret_jwt`: the signing key (validated at startup). */
  assertionKey?: ClientAssertionKey | undefined;
  /** `aud` of client assertions: the AS issuer when known, else the token endpoint URL. */
  assertionAudience?: string | undefined;
  /** Extra headers for every call (e.g. a provider that needs Accept or User-Agent). */
  headers?: Readonly<Record<string, string>>;
}

/** True for the methods that send a client assertion instead of a secret. */
export function usesClientAssertion(client: Pick<ClientAuthentication, 'authMethod'>): boolean {
  return client.authMethod === 'private_key_jwt' || client.authMethod === 'client_secret_jwt';
}

/**
 * A signed client assertion (RFC 7523 §3): `iss` = `sub` = client_id, `aud`, a random single-use
 * `jti`, `iat` and `exp` 60 s later.
 */
export function signClientAssertion(clientId: string, signing: ClientAssertionKey, audience: string, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({})
    .setProtectedHeader(signing.kid ? { alg: signing.alg, typ: 'JWT', kid: signing.kid } : { alg: signing.alg, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(audience)
    .setJti(randomBytes(32).toString('base64url'))
    .setIssuedAt(iat)
    .setExpirationTime(iat + CLIENT_ASSERTION_LIFETIME_SECONDS)
    .sign(signing.key);
}

/**
 * The body parameters of RFC 7523 client authentication, or `{}` for the other methods. A new
 * assertion each call (the AS refuses a `jti` it has seen).
 */
export async function clientAssertionParams(client: ClientAuthentication): Promise<Record<string, string>> {
  if (!usesClientAssertion(client) || !client.assertionKey || !client.assertionAudience) return {};
  return {
    client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
    client_assertion: await signClientAssertion(client.clientId, client.assertionKey, client.assertionAudience),
  };
}

/** RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64. */
function basicCredentials(id: string, secret: string): string {
  const enc = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

/**
 * Authenticate one form POST of ours (revocation, PAR) the way the token endpoint is: a Basic
 * header, `client_secret` in the body, a client assertion, or `client_id` alone. Returns the
 * credential values the request now carries, so error messages can be scrubbed of them.
 */
export async function authenticateFormRequest(client: ClientAuthentication, body: URLSearchParams, headers: Headers): Promise<string[]> {
  if (client.authMethod === 'client_secret_basic' && client.clientSecret !== undefined) {
    headers.set('authorization', basicCredentials(client.clientId, client.clientSecret));
    return [client.clientSecret];
  }
  body.set('client_id', client.clientId);
  if (client.authMethod === 'client_secret_post' && client.clientSecret !== undefined) {
    body.set('client_secret', client.clientSecret);
    return [client.clientSecret];
  }
  const assertion = await clientAssertionParams(client);
  for (const [name, value] of Object.entries(assertion)) body.set(name, value);
  return assertion.client_assertion ? [assertion.client_assertion] : [];
}
