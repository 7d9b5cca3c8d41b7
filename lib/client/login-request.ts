import type { ServerResponse } from 'node:http';
import { assertRecord, normalizeScope, OptionPath } from '../config/assert.js';
import type { ProviderLink } from './provider-link.js';

/** The per-login arguments of `req.oauth.login(res, options)`. */
export interface LoginOptions {
  /** Same-origin path to land on after the callback; anything else → `postLoginRedirect`. */
  returnTo?: string;
  /**
   * Authorization parameters of this login only (`{ access_type: 'online' }`, `{ audience }`).
   * They win over the configured `authorizationParams`. Parameters the package sets itself
   * (`state`, `nonce`, `redirect_uri`, PKCE, …) are refused; use `scope` for scopes.
   */
  authorizationParams?: Record<string, string>;
  /** Scopes requested in addition to the configured ones (string or array). */
  scope?: string | string[];
}

/** Per-login arguments after validation. */
export interface LoginRequest {
  returnTo: string | undefined;
  authorizationParams: Readonly<Record<string, string>>;
  scope: readonly string[];
}

/** Starts a login on `res` (its request's session) for `link`: injected by the http layer. */
export type LoginStarter = (res: ServerResponse, link: ProviderLink, request: LoginRequest) => Promise<void>;

/** Parameters the package owns in every authorization request (RFC 6749 §4.1.1, RFC 7636, OIDC). */
const OWN_PARAMS = new Set(['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method']);

/** Validate `req.oauth.login` options: a mistake is a programmer error, thrown as `TypeError` naming the argument. */
export function readLoginOptions(options: LoginOptions | undefined): LoginRequest {
  const at = new OptionPath('req.oauth.login');
  if (options === undefined) return { returnTo: undefined, authorizationParams: {}, scope: [] };
  if (typeof options !== 'object' || options === null) throw at.error('must be an object');
  if (options.returnTo !== undefined && typeof options.returnTo !== 'string') throw at.key('returnTo').error('must be a string');
  const params = assertRecord(options.authorizationParams, at.key('authorizationParams'));
  for (const name of Object.keys(params)) {
    if (OWN_PARAMS.has(name))
      throw at
        .key('authorizationParams')
        .key(name)
        .error(name === 'scope' ? 'is not allowed: use the `scope` option' : 'is set by the package and cannot be given');
  }
  return { returnTo: options.returnTo, authorizationParams: params, scope: normalizeScope(options.scope, at.key('scope')) };
}
