import { debugFor } from '../debug.js';
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
}

/**
 * The one renew-and-retry for every client (`req.oauth`, `clientCredentials`, `passwordGrant`): send
 * with the credentials; on 401 `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1)
 * renew them once and, for an idempotent request with a replayable body, send it once more. A
 * request that is not retried still renews, so the next call uses the new token.
 */
export async function sendWithRenewal(sender: RenewingSender, req: PreparedRequest, credentials: Credentials): Promise<Response> {
  const res = await sendAuthorized(sender.target, req, credentials, sender.outbound);
  if (res.status !== 401 || !sender.retryOn401 || !isInvalidTokenChallenge(res)) return res;
  log('401 invalid_token from %s; renewing once', req.url.origin);
  const renewed = await sender.renew(credentials);
  if (!isRetryable(req)) return res;
  await discardBody(res);
  return sendAuthorized(sender.target, req, renewed, sender.outbound);
}
