import { codeChallengeS256 } from './pkce.js';

export interface AuthorizeRequest {
  authorizationUrl: string;
  clientId: string;
  redirectUri: string;
  scope: readonly string[];
  state: string;
  codeVerifier?: string;
  nonce?: string;
  params: Readonly<Record<string, string>>;
}

/** RFC 6749 §4.1.1 authorization request URL (+ PKCE S256, + OIDC nonce). Pure. */
export function buildAuthorizationUrl(req: AuthorizeRequest): string {
  const url = new URL(req.authorizationUrl);
  const q = url.searchParams;
  for (const [k, v] of Object.entries(req.params)) q.set(k, v);
  q.set('response_type', 'code');
  q.set('client_id', req.clientId);
  q.set('redirect_uri', req.redirectUri);
  if (req.scope.length > 0) q.set('scope', req.scope.join(' '));
  q.set('state', req.state);
  if (req.codeVerifier) {
    q.set('code_challenge', codeChallengeS256(req.codeVerifier));
    q.set('code_challenge_method', 'S256');
  }
  if (req.nonce) q.set('nonce', req.nonce);
  return url.toString();
}
