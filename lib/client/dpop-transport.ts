import { debugFor } from '../debug.js';
import { isNonceChallenge, type DpopKey, type DpopProofs } from '../protocol/dpop.js';
import type { TokenSet } from '../protocol/token-set.js';
import { hasReplayableBody, sendWithToken, type ApiTarget, type PreparedRequest } from './bearer.js';
import { discardBody, type OutboundTransport } from './transport.js';

const log = debugFor('http');

/** What an API call is authorized with: the token set and, with `dpop`, the login's key. */
export interface Credentials {
  tokens: Pick<TokenSet, 'accessToken' | 'tokenType'>;
  dpop?: DpopKey;
}

/** How an API call goes out: the owner's transport, and its DPoP proofs (key cache, nonces). */
export interface ApiOutbound {
  transport: OutboundTransport;
  proofs: DpopProofs;
}

/**
 * Send an API request with the login's credentials. A DPoP-bound token (RFC 9449 §7) goes as
 * `Authorization: DPoP <token>` with a fresh proof (`htm`, `htu`, `ath`, the origin's last nonce);
 * a `DPoP-Nonce` in any answer is kept for the next proof, and a 401 `use_dpop_nonce` challenge
 * gets exactly one retry with it (the request was not processed; only a replayable body is sent
 * again). Anything else takes today's bearer path unchanged.
 */
export async function sendAuthorized(target: ApiTarget, req: PreparedRequest, credentials: Credentials, outbound: ApiOutbound): Promise<Response> {
  const { tokens, dpop } = credentials;
  const { transport, proofs } = outbound;
  if (!dpop || tokens.tokenType !== 'dpop') return sendWithToken(target, req, tokens.accessToken, transport);
  const send = async (): Promise<{ res: Response; nonce: string | undefined }> => {
    const headers = new Headers(req.headers);
    headers.set('authorization', `DPoP ${tokens.accessToken}`);
    headers.set('dpop', await proofs.create(dpop, { method: req.method, url: req.url, accessToken: tokens.accessToken }));
    log('%s %s%s (DPoP)', req.method, req.url.origin, req.url.pathname);
    const res = await transport.send(req.url, req.method, headers, req.body, req.init);
    return { res, nonce: proofs.rememberNonce(req.url, res.headers.get('dpop-nonce')) };
  };
  const first = await send();
  if (first.res.status !== 401 || first.nonce === undefined || !isNonceChallenge(first.res) || !hasReplayableBody(req)) return first.res;
  await discardBody(first.res);
  return (await send()).res;
}
