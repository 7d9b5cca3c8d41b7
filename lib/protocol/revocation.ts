import type { FetchLike, TokenEndpointAuthMethod } from '../config/options.js';
import { createDpopProof, type DpopKey } from './dpop.js';
import { NetworkError, TimeoutError, TokenEndpointError } from '../errors.js';

/** Who revokes: the client's credentials and how it authenticates (RFC 6749 §2.3.1). */
export interface RevocationClient {
  clientId: string;
  clientSecret: string | undefined;
  authMethod: TokenEndpointAuthMethod;
  headers?: Readonly<Record<string, string>>;
}

/** RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64. */
function basicCredentials(id: string, secret: string): string {
  const enc = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

/**
 * RFC 7009 token revocation, sent through the one outbound transport (`fetch`), with a DPoP proof
 * when the login has a DPoP key (RFC 9449 §5 lets an AS ask for one there too). Success is any
 * 2xx (the body is ignored); an error answer becomes a `TokenEndpointError` without token text.
 */
export async function revokeToken(fetchFn: FetchLike, url: string, client: RevocationClient, token: string, hint: 'access_token' | 'refresh_token', timeoutMs: number, dpop?: DpopKey): Promise<void> {
  const body = new URLSearchParams({ token, token_type_hint: hint });
  const headers = new Headers({ ...client.headers, 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8', accept: 'application/json' });
  if (dpop) headers.set('dpop', await createDpopProof(dpop, { method: 'POST', url }));
  if (client.authMethod === 'client_secret_basic' && client.clientSecret !== undefined) {
    headers.set('authorization', basicCredentials(client.clientId, client.clientSecret));
  } else {
    body.set('client_id', client.clientId);
    if (client.authMethod === 'client_secret_post' && client.clientSecret !== undefined) body.set('client_secret', client.clientSecret);
  }
  let res: Response;
  try {
    res = await fetchFn(url, { method: 'POST', headers, body: body.toString(), redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    if ((err as Error)?.name === 'TimeoutError') throw new TimeoutError('The revocation endpoint did not answer in time.', err);
    throw new NetworkError('The revocation endpoint could not be reached.', err);
  }
  await res.arrayBuffer().catch(() => undefined);
  if (res.status >= 200 && res.status < 300) return;
  throw new TokenEndpointError(`The revocation endpoint answered HTTP ${res.status}.`, { status: 502 });
}
