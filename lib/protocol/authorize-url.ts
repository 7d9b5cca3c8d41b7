import { MAX_AGE } from '../config/assert.js';
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
  /** RFC 8707 §2.1: one `resource` parameter per API the grant should cover. */
  resources?: readonly string[];
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
  if (req.resources && req.resources.length > 0) {
    q.delete('resource');
    for (const resource of req.resources) q.append('resource', resource);
  }
  return q;
}

/** `authorizationUrl` with `params` set on its query (parameters it already has are kept unless replaced). */
export function withQuery(authorizationUrl: string, params: URLSearchParams): string {
  const url = new URL(authorizationUrl);
  // A parameter given several times (RFC 8707 `resource`) keeps every value.
  for (const k of new Set(params.keys())) url.searchParams.delete(k);
  for (const [k, v] of params) url.searchParams.append(k, v);
  return url.toString();
}

/** RFC 6749 §4.1.1 authorization request URL (+ PKCE S256, + OIDC nonce). Pure. */
export function buildAuthorizationUrl(req: AuthorizeRequest): string {
  return withQuery(req.authorizationUrl, authorizationRequestParams(req));
}

/** Authorization parameters a login link may pass through (`/login?prompt=login`). */
export const PASS_THROUGH_PARAMS = ['prompt', 'login_hint', 'ui_locales', 'max_age', 'acr_values'] as const;
const MAX_PASS_THROUGH_LENGTH = 256;

/**
 * The authorize parameters of one login: the configured `authorizationParams`, plus the
 * allow-listed parameters of the login link (each given exactly once) for names the config does
 * not set. The config wins, so a link such as `/login?prompt=none&max_age=999999999` cannot
 * weaken an app's `prompt=login`, `max_age` or `acr_values` (step-up). A link's `max_age` must be
 * whole seconds. Returns the `max_age` sent, in seconds, for the `auth_time` check at the callback.
 */
export function loginAuthorizationParams(configured: Readonly<Record<string, string>>, query: URLSearchParams): { params: Record<string, string>; maxAge: number | undefined } {
  const params: Record<string, string> = { ...configured };
  for (const name of PASS_THROUGH_PARAMS) {
    const values = query.getAll(name);
    if (Object.prototype.hasOwnProperty.call(configured, name) || values.length !== 1) continue;
    const value = values[0] as string;
    if (value.length > MAX_PASS_THROUGH_LENGTH || (name === 'max_age' && !MAX_AGE.test(value))) continue;
    params[name] = value;
  }
  return { params, maxAge: params.max_age === undefined ? undefined : Number(params.max_age) };
}
