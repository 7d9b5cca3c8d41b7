/**
 * One error family for everything that can go wrong at run time. Every error carries a stable
 * `code`, an HTTP `status` (also as `statusCode`, which Express's final handler reads) and an
 * optional `cause`. Messages never contain tokens, codes, verifiers or the client secret.
 */

export const OAUTH_CODES = {
  INVALID_CALLBACK: 'OAUTH_INVALID_CALLBACK',
  MIX_UP: 'OAUTH_MIX_UP',
  AUTHORIZATION_DENIED: 'OAUTH_AUTHORIZATION_DENIED',
  AUTHORIZATION_ERROR: 'OAUTH_AUTHORIZATION_ERROR',
  TOKEN_ENDPOINT: 'OAUTH_TOKEN_ENDPOINT_ERROR',
  INVALID_TOKEN_RESPONSE: 'OAUTH_INVALID_TOKEN_RESPONSE',
  ID_TOKEN_INVALID: 'OAUTH_ID_TOKEN_INVALID',
  REFRESH_ID_TOKEN_INVALID: 'OAUTH_REFRESH_ID_TOKEN_INVALID',
  NETWORK: 'OAUTH_NETWORK_ERROR',
  TIMEOUT: 'OAUTH_TIMEOUT',
  NOT_AUTHENTICATED: 'OAUTH_NOT_AUTHENTICATED',
  REAUTHENTICATION_REQUIRED: 'OAUTH_REAUTHENTICATION_REQUIRED',
  ORIGIN_NOT_ALLOWED: 'OAUTH_ORIGIN_NOT_ALLOWED',
  SESSION_UNAVAILABLE: 'OAUTH_SESSION_UNAVAILABLE',
  MIDDLEWARE_MISSING: 'OAUTH_MIDDLEWARE_MISSING',
  LOGOUT_FORBIDDEN: 'OAUTH_LOGOUT_FORBIDDEN',
  DISCOVERY: 'OAUTH_DISCOVERY_ERROR',
  HOOK_FAILED: 'OAUTH_HOOK_FAILED',
  USERINFO: 'OAUTH_USERINFO_ERROR',
  CLAIMS_UNMET: 'OAUTH_CLAIMS_UNMET',
  RESPONSE_TOO_LARGE: 'OAUTH_RESPONSE_TOO_LARGE',
  TOO_MANY_LOGINS: 'OAUTH_TOO_MANY_LOGINS',
  INSUFFICIENT_SCOPE: 'OAUTH_INSUFFICIENT_SCOPE',
  STEP_UP_REQUIRED: 'OAUTH_STEP_UP_REQUIRED',
  RESOURCE_METADATA: 'OAUTH_RESOURCE_METADATA_ERROR',
  RESOURCE_METADATA_MISMATCH: 'OAUTH_RESOURCE_METADATA_MISMATCH',
  UNKNOWN_PROVIDER: 'OAUTH_UNKNOWN_PROVIDER',
  TENANT_NOT_ALLOWED: 'OAUTH_TENANT_NOT_ALLOWED',
  MTLS_REQUIRED: 'OAUTH_MTLS_REQUIRED',
} as const;

export type OAuthErrorCode = (typeof OAUTH_CODES)[keyof typeof OAUTH_CODES];

/** Config mistakes are programmer errors: thrown synchronously at startup. */
export const ERR_OAUTH_CONFIG = 'ERR_OAUTH_CONFIG';

export interface OAuthErrorOptions {
  status?: number;
  cause?: unknown;
  /** Safe to show to end users (defaults to status < 500). */
  expose?: boolean;
}

export class OAuthError extends Error {
  override name = 'OAuthError';
  readonly code: OAuthErrorCode;
  readonly status: number;
  readonly statusCode: number;
  /** Read by Express's final handler and http-errors users: safe to show the message. */
  readonly expose: boolean;

  constructor(code: OAuthErrorCode, message: string, options: OAuthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? 500;
    this.statusCode = this.status;
    this.expose = options.expose ?? this.status < 500;
  }

  toJSON(): { error: string; code: OAuthErrorCode; message: string } {
    return { error: this.name, code: this.code, message: this.message };
  }
}

/** Why a login failed when the package can tell (docs/troubleshooting.md lists each `code`). */
export interface ErrorDiagnosis {
  readonly code: string;
  /** What the package saw. */
  readonly problem: string;
  /** What the developer should change. */
  readonly fix: string;
}

/** Forged, replayed or mismatched callback (state, iss, code). */
export class InvalidCallbackError extends OAuthError {
  override name = 'InvalidCallbackError';
  /**
   * Set when a callback found no pending login and the request shows why (no session cookie, a
   * `secure` cookie over http, another host than redirectUri's): the error page shows it in
   * development, and it is logged once.
   */
  readonly diagnosis: ErrorDiagnosis | undefined;
  constructor(message: string, code: OAuthErrorCode = OAUTH_CODES.INVALID_CALLBACK, diagnosis?: ErrorDiagnosis) {
    super(code, message, { status: 400 });
    this.diagnosis = diagnosis;
  }
}

/** The authorization server redirected back with `error=` (RFC 6749 §4.1.2.1). */
export class AuthorizationResponseError extends OAuthError {
  override name = 'AuthorizationResponseError';
  /** The `error` code sent by the AS, limited to RFC 6749 characters. */
  readonly error: string;
  constructor(error: string, status: number) {
    super(status === 403 ? OAUTH_CODES.AUTHORIZATION_DENIED : OAUTH_CODES.AUTHORIZATION_ERROR, `The authorization server answered the login with error "${error}".`, { status, expose: true });
    this.error = error;
  }
}

/** The token endpoint answered with an error body (RFC 6749 §5.2) or garbage. */
export class TokenEndpointError extends OAuthError {
  override name = 'TokenEndpointError';
  readonly error: string | undefined;
  /** `error_description`, printable RFC 6749 characters only, ≤ 300 chars, never echoing a secret we sent. */
  readonly errorDescription: string | undefined;
  /** `error_uri` when it is an absolute http(s) URI that echoes no secret we sent. */
  readonly errorUri: string | undefined;
  /** From the endpoint's `Retry-After` (capped at 60 s), when it sent one. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, details: { status: number; error?: string; errorDescription?: string; errorUri?: string; code?: OAuthErrorCode; cause?: unknown; retryAfterMs?: number }) {
    super(details.code ?? OAUTH_CODES.TOKEN_ENDPOINT, message, { status: details.status, cause: details.cause });
    this.error = details.error;
    this.errorDescription = details.errorDescription;
    this.errorUri = details.errorUri;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** The user must log in again: no tokens, or the refresh token was rejected. */
export class ReauthenticationRequiredError extends OAuthError {
  override name = 'ReauthenticationRequiredError';
  constructor(message: string, code: OAuthErrorCode = OAUTH_CODES.REAUTHENTICATION_REQUIRED, cause?: unknown) {
    super(code, message, { status: 401, cause });
  }
}

/** Transport failure (connection refused, reset) talking to the AS. */
export class NetworkError extends OAuthError {
  override name = 'NetworkError';
  constructor(message: string, cause?: unknown) {
    super(OAUTH_CODES.NETWORK, message, { status: 502, cause });
  }
}

/** The AS did not answer within `httpTimeoutMs`. */
export class TimeoutError extends OAuthError {
  override name = 'TimeoutError';
  constructor(message: string, cause?: unknown) {
    super(OAUTH_CODES.TIMEOUT, message, { status: 504, cause });
  }
}

/** The session store is down or erroring: express-session could not load the session. */
export class SessionUnavailableError extends OAuthError {
  override name = 'SessionUnavailableError';
  constructor(message = 'The session store is unavailable; try again shortly.', cause?: unknown) {
    super(OAUTH_CODES.SESSION_UNAVAILABLE, message, { status: 503, cause, expose: true });
  }
}

/** What an API's `WWW-Authenticate` challenge asked for (RFC 6750 §3.1, RFC 9470 §3); no token in it. */
export interface ApiChallenge {
  /** `insufficient_scope` or `insufficient_user_authentication`. */
  error: string;
  /** Scopes the API needs (RFC 6750 `scope`). */
  scope?: readonly string[];
  /** Acceptable `acr` values, in order of preference (RFC 9470 `acr_values`). */
  acrValues?: readonly string[];
  /** Longest acceptable time since the user authenticated, seconds (RFC 9470 `max_age`). */
  maxAge?: number;
}

/**
 * An API refused the user's token with a challenge the user can answer by logging in again:
 * `OAUTH_INSUFFICIENT_SCOPE` (more scope) or `OAUTH_STEP_UP_REQUIRED` (a stronger or more recent
 * authentication), status 403. `oauthErrorHandler()` turns it into an incremental or step-up
 * login for a page load (back to the same page) and a 403 JSON carrying `challenge` otherwise.
 */
export class ApiChallengeError extends OAuthError {
  override name = 'ApiChallengeError';
  /** The provider whose login would answer the challenge. */
  readonly provider: string;
  /** The configured API that sent it, when the call went to one (`apis.<name>`). */
  readonly api: string | undefined;
  /** The HTTP status the API answered (401 or 403). */
  readonly apiStatus: number;
  readonly challenge: Readonly<ApiChallenge>;
  constructor(details: { provider: string; api?: string; apiStatus: number; challenge: ApiChallenge }) {
    const { challenge } = details;
    const stepUp = challenge.error === 'insufficient_user_authentication';
    const what = stepUp ? 'a stronger or more recent sign-in' : `more access${challenge.scope ? ` (${challenge.scope.join(' ')})` : ''}`;
    super(stepUp ? OAUTH_CODES.STEP_UP_REQUIRED : OAUTH_CODES.INSUFFICIENT_SCOPE, `The ${details.api ? `${details.api} API` : 'API'} needs ${what}.`, { status: 403, expose: true });
    this.provider = details.provider;
    this.api = details.api;
    this.apiStatus = details.apiStatus;
    this.challenge = Object.freeze({ ...challenge });
  }

  override toJSON(): { error: string; code: OAuthErrorCode; message: string; challenge: ApiChallengeBody } {
    return { ...super.toJSON(), challenge: challengeBody(this.challenge) };
  }
}

/** A challenge on the wire (RFC 6750 / RFC 9470 names; lists space-separated). */
export interface ApiChallengeBody {
  error: string;
  scope?: string;
  acr_values?: string;
  max_age?: number;
}

/** The wire form of a challenge, as a 403 JSON body carries it. */
export function challengeBody(challenge: ApiChallenge): ApiChallengeBody {
  const body: ApiChallengeBody = { error: challenge.error };
  if (challenge.scope) body.scope = challenge.scope.join(' ');
  if (challenge.acrValues) body.acr_values = challenge.acrValues.join(' ');
  if (challenge.maxAge !== undefined) body.max_age = challenge.maxAge;
  return body;
}

/** Cross-realm safe guard: checks name/code shape, not only `instanceof`. */
export function isOAuthError(value: unknown): value is OAuthError {
  if (value instanceof OAuthError) return true;
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { code?: unknown; status?: unknown };
  return typeof v.code === 'string' && v.code.startsWith('OAUTH_') && typeof v.status === 'number';
}

/** A config mistake: `TypeError` with the option path and `code: 'ERR_OAUTH_CONFIG'`, labelled with the factory that refused it. */
export function configError(path: string, problem: string, factory = 'oauthMiddleware'): TypeError & { code: string; path: string } {
  const err = new TypeError(`${factory}: \`${path}\` ${problem}`) as TypeError & { code: string; path: string };
  err.code = ERR_OAUTH_CONFIG;
  err.path = path;
  return err;
}
