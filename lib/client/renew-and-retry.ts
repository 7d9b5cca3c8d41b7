import { debugFor } from '../debug.js';
import { ApiChallenges } from './api-challenges.js';
import { isInvalidTokenChallenge, isRetryable, type ApiTarget, type PreparedRequest } from './bearer.js';
import { sendAuthorized, type ApiOutbound, type Credentials } from './dpop-transport.js';
import { discardBody } from './transport.js';

const log = debugFor('http');

/** How one client sends and renews: where the token may go, its transport, and the `retryOn401` option. */
export interface RenewingSender {
  target: ApiTarget;
  outbound: ApiOutbound;
  retryOn401: boolean;
  /** New credentials after the API refused `stale` (a refresh, or a new backend token); shares an in-flight one. */
  renew(stale: Credentials): Promise<Credentials>;
  /** The API's challenge handler (`req.oauth`'s senders; backend grant clients have none: no user to log in). */
  challenges?: ApiChallenges;
}

/** The answer, or the typed error of a challenge in it (api-challenges.ts); a plain property check on the fast path. */
function inspected(sender: RenewingSender, req: PreparedRequest, credentials: Credentials, res: Response): Promise<Response> | Response {
  if (!sender.challenges || !ApiChallenges.isCandidate(res)) return res;
  return sender.challenges.inspect(res, req.url, credentials.dpop && credentials.tokens.tokenType === 'dpop' ? 'dpop' : 'bearer');
}

/**
 * The one renew-and-retry for every client (`req.oauth`, `clientCredentials`, `passwordGrant`): send
 * with the credentials; on 401 `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1)
 * renew them once and, for an idempotent request with a replayable body, send it once more. A
 * request that is not retried still renews, so the next call uses the new token. With a challenge
 * handler, an API whose resource metadata refused the token gets nothing, and a challenge the
 * user can answer by logging in again (more scope, step-up) rejects with `ApiChallengeError`.
 */
export async function sendWithRenewal(sender: RenewingSender, req: PreparedRequest, credentials: Credentials): Promise<Response> {
  sender.challenges?.assertAllowed(req.url);
  const res = await inspected(sender, req, credentials, await sendAuthorized(sender.target, req, credentials, sender.outbound));
  if (res.status !== 401 || !sender.retryOn401 || !isInvalidTokenChallenge(res)) return res;
  log('401 invalid_token from %s; renewing once', req.url.origin);
  const renewed = await sender.renew(credentials);
  if (!isRetryable(req)) return res;
  await discardBody(res);
  return inspected(sender, req, renewed, await sendAuthorized(sender.target, req, renewed, sender.outbound));
}
