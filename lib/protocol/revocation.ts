import type { FetchLike } from '../config/options.js';
import type { DpopKey, DpopProofs } from './dpop.js';
import { NetworkError, TimeoutError, TokenEndpointError } from '../errors.js';
import { BODY_LIMITS, drainBounded } from './bounded-body.js';
import { authenticateFormRequest, type ClientAuthentication } from './client-assertion.js';

/** Who revokes: the client's credentials and how it authenticates (RFC 6749 §2.3.1, RFC 7523). */
export type RevocationClient = ClientAuthentication;

/**
 * RFC 7009 token revocation, sent through the one outbound transport (`fetch`), with a DPoP proof
 * when the login has a DPoP key (RFC 9449 §5 lets an AS ask for one there too). Success is any
 * 2xx (the body is ignored, and read only up to 16 KiB); an error answer becomes a `TokenEndpointError` without token text.
 */
export interface RevocationEndpoint {
  /** The one outbound transport. */
  fetch: FetchLike;
  url: string;
  client: RevocationClient;
  timeoutMs: number;
  /** The login's DPoP key (and the proofs of its owner: nonces), when its tokens are bound. */
  dpop?: { key: DpopKey; proofs: DpopProofs } | undefined;
}

export async function revokeToken(endpoint: RevocationEndpoint, token: string, hint: 'access_token' | 'refresh_token'): Promise<void> {
  const { fetch: fetchFn, url, client, timeoutMs, dpop } = endpoint;
  const body = new URLSearchParams({ token, token_type_hint: hint });
  const headers = new Headers({ ...client.headers, 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8', accept: 'application/json' });
  if (dpop) headers.set('dpop', await dpop.proofs.create(dpop.key, { method: 'POST', url }));
  await authenticateFormRequest(client, body, headers);
  let res: Response;
  try {
    res = await fetchFn(url, { method: 'POST', headers, body: body.toString(), redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    if ((err as Error)?.name === 'TimeoutError') throw new TimeoutError('The revocation endpoint did not answer in time.', err);
    throw new NetworkError('The revocation endpoint could not be reached.', err);
  }
  // The body is ignored: at most 16 KiB of it is read (keeps the connection), a longer one cancelled.
  await drainBounded(res, BODY_LIMITS.revocation, 'revocation endpoint');
  if (res.status >= 200 && res.status < 300) return;
  throw new TokenEndpointError(`The revocation endpoint answered HTTP ${res.status}.`, { status: 502 });
}
