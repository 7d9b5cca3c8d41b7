import { OAUTH_CODES, OAuthError } from '../errors.js';
import { BODY_LIMITS, drainBounded, readBoundedText } from './bounded-body.js';

/** Largest UserInfo response read (bytes): claims about one user, never megabytes. */
export const MAX_USERINFO_LENGTH = BODY_LIMITS.userinfo;

/** A UserInfo failure: 502 (the provider answered badly) or 504 (it did not answer in time). */
export function userInfoError(message: string, status = 502, cause?: unknown): OAuthError {
  return new OAuthError(OAUTH_CODES.USERINFO, message, { status, cause });
}

/** A transport failure of a UserInfo request as a UserInfo error (OAuth errors pass through). */
export function userInfoTransportError(err: unknown): OAuthError {
  if (err instanceof OAuthError) return err;
  const timedOut = (err as { name?: string }).name === 'TimeoutError';
  return userInfoError(timedOut ? 'The UserInfo endpoint did not answer in time.' : 'The UserInfo endpoint could not be reached.', timedOut ? 504 : 502, err);
}

/** Drop an unused body: at most the cap is read, anything longer is cancelled. */
function discard(res: Response): Promise<void> {
  return drainBounded(res, MAX_USERINFO_LENGTH, 'UserInfo');
}

/**
 * Read a UserInfo response (OIDC Core §5.3.2): HTTP 200 with a JSON object of at most 64 KiB.
 * Signed or encrypted responses (`application/jwt`) are refused. When `expectedSub` is known (the
 * ID token's), the response's `sub` must equal it: §5.3.2 forbids using the claims otherwise.
 * Throws `OAuthError` `OAUTH_USERINFO_ERROR` (502); messages never contain a claim value.
 */
export async function readUserInfoResponse(res: Response, expectedSub: string | undefined): Promise<Record<string, unknown>> {
  if (res.status !== 200) {
    await discard(res);
    throw userInfoError(`The UserInfo endpoint answered HTTP ${res.status}.`);
  }
  const type = (res.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/jwt') {
    await discard(res);
    throw userInfoError('The UserInfo endpoint answered a signed or encrypted JWT, which is not supported: register the client for plain JSON UserInfo responses.');
  }
  // Read through the bounded reader: a larger body is cancelled at the cap, never read whole.
  const text = await readBoundedText(res, MAX_USERINFO_LENGTH, 'UserInfo', () => userInfoError('The UserInfo response is larger than 64 KiB; it was not read further.'));
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw userInfoError('The UserInfo response is not JSON.', 502, err);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw userInfoError('The UserInfo response is not a JSON object.');
  const claims = body as Record<string, unknown>;
  if (expectedSub !== undefined && claims.sub !== expectedSub) {
    throw userInfoError('The UserInfo response names another user (sub) than the ID token; its claims were not used.');
  }
  return claims;
}
