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

/** The RFC 6749 §4.1.1 authorization request parameters (+ PKCE S256, + OIDC nonce). Pure. */
export function authorizationRequestParams(req: Omit<AuthorizeRequest, 'authorizationUrl'>): URLSearchParams {
  const q = new URLSearchParams();
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
  return q;
}

/** `authorizationUrl` with `params` set on its query (parameters it already has are kept unless replaced). */
export function withQuery(authorizationUrl: string, params: URLSearchParams): string {
  const url = new URL(authorizationUrl);
  for (const [k, v] of params) url.searchParams.set(k, v);
  return url.toString();
}

/** RFC 6749 §4.1.1 authorization request URL (+ PKCE S256, + OIDC nonce). Pure. */
export function buildAuthorizationUrl(req: AuthorizeRequest): string {
  return withQuery(req.authorizationUrl, authorizationRequestParams(req));
}
