import { debug } from './debug.js';
import { isOAuthError, OAUTH_CODES, type OAuthError } from './errors.js';
import type { OAuthEventEmitter } from './events.js';

/**
 * Warnings a developer must act on (docs/troubleshooting.md lists each code). Logged once per cause
 * and middleware instance: as a process warning (printed on stderr by Node unless silenced), on
 * the debug namespace `express-oauth2-session:warn`, and as a `warning` event.
 */
export const WARNING_CODES = {
  COOKIE_SECURE_ON_HTTP: 'OAUTH_COOKIE_SECURE_ON_HTTP',
  PROXY_NOT_TRUSTED: 'OAUTH_PROXY_NOT_TRUSTED',
  PROXY_WITHOUT_FORWARDED_PROTO: 'OAUTH_PROXY_WITHOUT_FORWARDED_PROTO',
  HOST_MISMATCH: 'OAUTH_HOST_MISMATCH',
  NO_SESSION_COOKIE: 'OAUTH_NO_SESSION_COOKIE',
  SESSION_LOST: 'OAUTH_SESSION_LOST',
  PUBLIC_CLIENT: 'OAUTH_PUBLIC_CLIENT',
  PROVIDER_FAILURE: 'OAUTH_PROVIDER_FAILURE',
  UNKNOWN_PROVIDER: 'OAUTH_UNKNOWN_PROVIDER',
} as const;

export type WarningCode = (typeof WARNING_CODES)[keyof typeof WARNING_CODES];

/** What went wrong, why, and how to fix it: shown in logs and (in development) on the error page. */
export interface Diagnosis {
  code: WarningCode;
  /** What the package saw. */
  problem: string;
  /** What to change. */
  fix: string;
}

/** The payload of the `warning` event: no token, code or secret. */
export interface OAuthWarning {
  code: WarningCode;
  provider: string | undefined;
  /** Problem and fix, one line. */
  message: string;
}

const warnLog = debug.extend('warn');
/** Distinct causes remembered per instance; beyond this the oldest is forgotten (and may be logged again). */
const MAX_CAUSES = 500;
const MIN_REDACTED_LENGTH = 8;

/** A value from a request or a provider, made safe for one log line: printable ASCII, cut to `max`. */
export function printable(value: unknown, max = 200): string {
  if (typeof value !== 'string') return '(none)';
  const text = value.replace(/[^\x20-\x7E]/g, '?');
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The words of a diagnosis as one line. */
export function diagnosisText(d: Diagnosis): string {
  return `${d.problem} Fix: ${d.fix}`;
}

/** The fix for a token-endpoint error code the app (not the user) must fix. */
function tokenEndpointHint(error: string | undefined): string {
  switch (error) {
    case 'invalid_client':
    case 'incorrect_client_credentials':
      return 'The provider refused the client credentials: check clientId and clientSecret (an unset environment variable leaves clientSecret undefined, which makes a public client) and tokenEndpointAuthMethod.';
    case 'unauthorized_client':
      return 'The provider does not allow this client that grant: enable the authorization code grant (and refresh tokens) for the client at the provider.';
    case 'invalid_grant':
      return 'The provider refused the code: it expired or was used, or redirectUri differs from the one the login was started with.';
    case 'server_error':
    case 'temporarily_unavailable':
      return 'The provider reports a problem on its side; it usually passes (check its status page if it does not).';
    default:
      return 'See the provider\u2019s documentation of this error.';
  }
}

/**
 * One line naming the real reason of a failed call to the provider (token endpoint, discovery,
 * network), from an error the package made: its message never holds a token, code or secret;
 * the cause's message is added for discovery and transport failures (an HTTP status, a socket error).
 */
export function providerFailureText(err: OAuthError): string {
  const parts = [err.message];
  const details = err as OAuthError & { errorDescription?: string; error?: string };
  if (details.errorDescription) parts.push(`Provider says: "${details.errorDescription}".`);
  if (err.code === OAUTH_CODES.TOKEN_ENDPOINT) parts.push(tokenEndpointHint(details.error));
  const cause = err.cause;
  if (cause instanceof Error && (err.code === OAUTH_CODES.DISCOVERY || err.code === OAUTH_CODES.NETWORK || err.code === OAUTH_CODES.TIMEOUT)) {
    const code = (cause as Error & { code?: unknown }).code;
    parts.push(`Cause: ${printable(cause.message)}${typeof code === 'string' ? ` (${printable(code, 40)})` : ''}.`);
  }
  return parts.join(' ');
}

/** Failures that retrying does not fix, or that the developer should see once: worth a warning. */
const PROVIDER_FAILURES: ReadonlySet<string> = new Set([
  OAUTH_CODES.TOKEN_ENDPOINT,
  OAUTH_CODES.INVALID_TOKEN_RESPONSE,
  OAUTH_CODES.DISCOVERY,
  OAUTH_CODES.NETWORK,
  OAUTH_CODES.TIMEOUT,
  OAUTH_CODES.ID_TOKEN_INVALID,
  OAUTH_CODES.USERINFO,
]);

/**
 * The diagnostics of one middleware instance: each cause is reported once (a cause that repeats on
 * every login would flood the log), with secrets the instance knows (client secrets) redacted.
 */
export class Diagnostics {
  readonly #seen = new Set<string>();

  constructor(
    private readonly events: OAuthEventEmitter,
    private readonly secrets: ReadonlyArray<string | undefined> = [],
  ) {}

  /**
   * The messages come from the package's own errors, which never hold a secret: this is a second
   * line of defence. Secrets under 8 characters (test values such as "s") are left out, or every
   * occurrence of a common letter would be replaced.
   */
  #redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (secret && secret.length >= MIN_REDACTED_LENGTH) out = out.split(secret).join('[redacted]');
    return out;
  }

  /** Report `message` under `code` unless this instance already reported the same `key`; true when reported. */
  warnOnce(key: string, code: WarningCode, provider: string | undefined, message: string): boolean {
    if (this.#seen.has(key)) return false;
    if (this.#seen.size >= MAX_CAUSES) this.#seen.delete(this.#seen.values().next().value as string);
    this.#seen.add(key);
    const text = this.#redact(`${provider === undefined ? '' : `[provider "${provider}"] `}${message}`);
    warnLog('%s: %s', code, text);
    this.events.emit('warning', { code, provider, message: text });
    process.emitWarning(`express-oauth2-session: ${text}`, { code });
    return true;
  }

  /** A diagnosed cause (cookie, host, proxy), once per cause and provider. */
  diagnosed(provider: string | undefined, d: Diagnosis): void {
    this.warnOnce(`${d.code}|${provider ?? ''}|${d.problem}`, d.code, provider, diagnosisText(d));
  }

  /**
   * A route (login, callback, logout) failed: every OAuth error is an `error` event; a failure
   * talking to the provider is also logged with its real reason, once per provider, code,
   * provider error and HTTP status.
   */
  routeFailed(err: unknown, provider: string | undefined, route: string): void {
    if (!isOAuthError(err)) return;
    this.events.emit('error', { provider, code: err.code, status: err.status });
    this.providerFailed(err, provider, route, `(${err.code}, HTTP ${err.status} to the browser)`);
  }

  /**
   * A failure talking to the provider (token endpoint, discovery, network), from a route or a
   * refresh: logged with its real reason, once per provider, code, provider error and status.
   * Other errors are not logged here.
   */
  providerFailed(err: unknown, provider: string | undefined, what: string, detail?: string): void {
    if (!isOAuthError(err) || !PROVIDER_FAILURES.has(err.code)) return;
    const error = (err as OAuthError & { error?: string }).error;
    this.warnOnce(
      `${WARNING_CODES.PROVIDER_FAILURE}|${provider ?? ''}|${err.code}|${error ?? ''}|${err.status}`,
      WARNING_CODES.PROVIDER_FAILURE,
      provider,
      `${what} failed ${detail ?? `(${err.code})`}: ${providerFailureText(err)}`,
    );
  }
}
