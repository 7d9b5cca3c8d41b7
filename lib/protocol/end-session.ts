export interface EndSessionRequest {
  endSessionUrl: string;
  clientId: string;
  /** The ID token of the login being ended, when the provider issued one. */
  idToken?: string;
  postLogoutRedirectUri: string;
  /** Echoed back to `postLogoutRedirectUri` by the provider. */
  state?: string;
}

/** OpenID Connect RP-Initiated Logout 1.0 §2: the end-session request URL. Pure. */
export function buildEndSessionUrl(req: EndSessionRequest): string {
  const url = new URL(req.endSessionUrl);
  const q = url.searchParams;
  if (req.idToken) q.set('id_token_hint', req.idToken);
  q.set('client_id', req.clientId);
  q.set('post_logout_redirect_uri', req.postLogoutRedirectUri);
  if (req.state) q.set('state', req.state);
  return url.toString();
}
