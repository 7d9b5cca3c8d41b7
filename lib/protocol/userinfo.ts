import { OAUTH_CODES, OAuthError } from '../errors.js';

/** Largest UserInfo response read (characters): claims about one user, never megabytes. */
export const MAX_USERINFO_LENGTH = 64 * 1024;

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

/**
 * Drain an unused body. Not `body.cancel()`: on a streamed (chunked) answer of the pooled transport,
 * Node's `Readable.toWeb` bridge throws "Controller is already closed" outside any promise when the
 * socket ends after the cancel.
 */
async function discard(res: Response): Promise<void> {
  await res.arrayBuffer().catch(() => undefined);
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
  const text = await res.text();
  if (text.length > MAX_USERINFO_LENGTH) throw userInfoError('The UserInfo response is larger than 64 KiB.');
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
