import type { IncomingMessage, ServerResponse } from 'node:http';
import { assertRecord, normalizeScope, OptionPath } from '../config/assert.js';
import { assertNoReservedParams } from '../config/option-keys.js';
import type { ResolvedProvider } from '../config/resolved.js';
import type { StepUpRequest } from '../session/session-format.js';

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

/** What one login asks the provider for, resolved (configured and per-login values merged). */
export interface AuthorizationRequest {
  /** Validated same-origin path to return to. */
  returnTo: string;
  scope: readonly string[];
  params: Readonly<Record<string, string>>;
  /** Set by requireAuth for a step-up or incremental login; kept on the login it produces. */
  stepUp?: StepUpRequest;
  /** The `max_age` sent (seconds): the callback checks the ID token's `auth_time` against it. */
  maxAge?: number;
}

/**
 * Starting a login of one provider: the one place a pending login and its authorization request
 * are made (http/start-login.ts implements it; the client layer never imports http/). Made once
 * per provider by the middleware factory; the provider's login settings it exposes hold no secret.
 */
export interface LoginStarter {
  readonly provider: Pick<ResolvedProvider, 'name' | 'scope' | 'authorizationParams' | 'incrementalAuthorizationParams' | 'loginPath'>;
  readonly postLoginRedirect: string;
  /** Save a pending login in the session of `req` and answer with the authorization URL (requireAuth's step-up); `res` gets the form_post binding cookie. */
  authorizationUrl(req: IncomingMessage, res: ServerResponse, request: AuthorizationRequest): Promise<string>;
  /** Start a login and answer 302 to the authorization endpoint: the `/login` route (`query`) and `req.oauth.login` (`request`). */
  redirect(req: IncomingMessage, res: ServerResponse, from: { query?: URLSearchParams; request?: LoginRequest }): Promise<void>;
}

/** Validate `req.oauth.login` options: a mistake is a programmer error, thrown as `TypeError` naming the argument. */
export function readLoginOptions(options: LoginOptions | undefined): LoginRequest {
  const at = new OptionPath('req.oauth.login');
  if (options === undefined) return { returnTo: undefined, authorizationParams: {}, scope: [] };
  if (typeof options !== 'object' || options === null) throw at.error('must be an object');
  if (options.returnTo !== undefined && typeof options.returnTo !== 'string') throw at.key('returnTo').error('must be a string');
  const params = assertRecord(options.authorizationParams, at.key('authorizationParams'));
  assertNoReservedParams(params, at.key('authorizationParams'), false);
  return { returnTo: options.returnTo, authorizationParams: params, scope: normalizeScope(options.scope, at.key('scope')) };
}
