import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { OAUTH_CODES, OAuthError } from '../errors.js';

const jwksCache = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function jwksFor(uri: string, timeoutMs: number): ReturnType<typeof createRemoteJWKSet> {
  let set = jwksCache.get(uri);
  if (!set) {
    set = createRemoteJWKSet(new URL(uri), { timeoutDuration: timeoutMs, cooldownDuration: 30_000 });
    jwksCache.set(uri, set);
  }
  return set;
}

/**
 * OIDC Core §3.1.3.7: signature (JWKS), iss, aud, exp, and the nonce of this login transaction.
 * Returns the claims; throws OAuthError (502) otherwise.
 */
export async function verifyIdToken(
  idToken: string,
  expected: { issuer: string; clientId: string; jwksUri: string; nonce: string | undefined; timeoutMs: number },
): Promise<JWTPayload> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, jwksFor(expected.jwksUri, expected.timeoutMs), {
      issuer: expected.issuer,
      audience: expected.clientId,
      clockTolerance: 5,
    }));
  } catch (err) {
    throw new OAuthError(OAUTH_CODES.ID_TOKEN_INVALID, `The ID token failed verification (${(err as { code?: string }).code ?? 'invalid'}).`, {
      status: 502,
      cause: err,
    });
  }
  if (expected.nonce !== undefined && payload.nonce !== expected.nonce) {
    throw new OAuthError(OAUTH_CODES.ID_TOKEN_INVALID, 'The ID token nonce does not match this login.', { status: 502 });
  }
  if (typeof payload.sub !== 'string') {
    throw new OAuthError(OAUTH_CODES.ID_TOKEN_INVALID, 'The ID token has no sub claim.', { status: 502 });
  }
  return payload;
}
