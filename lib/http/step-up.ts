// What requireAuth({ scopes, acrValues, maxAge }) asks of a login, and what a login lacks.
// Framework-free: the login marker and the granted scope in, a verdict out.
import { ID_TOKEN_CLOCK_TOLERANCE_SECONDS } from '../protocol/id-token.js';
import type { LoginMarker, StepUpRequest } from '../session/session-format.js';

/** The authentication and authorization a route needs beyond being logged in. */
export interface StepUpRules {
  /** Scopes the access token must have been granted. */
  scopes?: readonly string[];
  /** The ID token's `acr` must be one of these. */
  acrValues?: readonly string[];
  /** The ID token's `auth_time` must be at most this many seconds ago. */
  maxAge?: number;
}

/** What a login lacks for a route, and the login that would supply it. */
export interface Shortfall {
  /** The `acr` or `auth_time` does not satisfy the route. */
  authentication: boolean;
  /** Required scopes the access token lacks. */
  missingScopes: string[];
  /** True when the login already answered a request for exactly this: asking again would loop. */
  exhausted: boolean;
  /** The scope and parameters of the login that would supply what is missing. */
  login: { scope: string[]; params: Record<string, string>; stepUp: StepUpRequest };
}

/**
 * Scope strings of a token response: space-separated (RFC 6749 §3.3); GitHub separates them with
 * commas, so commas separate too (no registered scope contains one).
 */
export function parseScope(scope: string | undefined): string[] {
  return scope === undefined ? [] : scope.split(/[\s,]+/).filter(Boolean);
}

/**
 * The scope the access token was granted: its `scope` when the token response had one, else the
 * scope the login requested (RFC 6749 §5.1: omitted means "as requested").
 */
export function grantedScope(tokenScope: string | undefined, marker: LoginMarker, configured: readonly string[]): string[] {
  if (tokenScope !== undefined) return parseScope(tokenScope);
  return marker.stepUp?.scope !== undefined ? parseScope(marker.stepUp.scope) : [...configured];
}

function isAuthenticationMet(rules: StepUpRules, marker: LoginMarker, nowSeconds: number): { acr: boolean; age: boolean } {
  const acr = !rules.acrValues || (marker.acr !== undefined && rules.acrValues.includes(marker.acr));
  const age = rules.maxAge === undefined || (marker.authTime !== undefined && nowSeconds - marker.authTime <= rules.maxAge + ID_TOKEN_CLOCK_TOLERANCE_SECONDS);
  return { acr, age };
}

/** `prompt` with `login` added (OIDC Core §3.1.2.1: a space-separated list; `none` cannot be combined). */
function withLoginPrompt(prompt: string | undefined): string {
  const values = parseScope(prompt).filter((v) => v !== 'none' && v !== 'login');
  return ['login', ...values].join(' ');
}

/**
 * Compare a login with a route's rules. Returns undefined when the login satisfies them; else what
 * is missing, whether the login was itself the answer to the same request (the provider will not
 * grant it: asking again would loop), and the login to start: the union of the configured, granted
 * and required scopes (`incrementalParams` added when scopes are missing), `prompt=login` +
 * `acr_values` for an unmet `acr`, `max_age` (the stricter of the configured and the route's) for
 * an unmet `auth_time`.
 */
export function assessLogin(
  rules: StepUpRules,
  marker: LoginMarker,
  granted: readonly string[] | undefined,
  provider: { scope: readonly string[]; authorizationParams: Readonly<Record<string, string>>; incrementalAuthorizationParams: Readonly<Record<string, string>> },
  now: number,
): Shortfall | undefined {
  const met = isAuthenticationMet(rules, marker, Math.floor(now / 1000));
  const missingScopes = granted ? (rules.scopes ?? []).filter((s) => !granted.includes(s)) : [];
  if (met.acr && met.age && missingScopes.length === 0) return undefined;

  const asked = marker.stepUp ?? {};
  // Every login asks at least the configured scope; a step-up login records what it asked.
  const askedScopes = asked.scope !== undefined ? parseScope(asked.scope) : [...provider.scope];
  const askedAcr = parseScope(asked.acrValues);
  const loginIsFresh = rules.maxAge !== undefined && now - marker.authenticatedAt <= (rules.maxAge + ID_TOKEN_CLOCK_TOLERANCE_SECONDS) * 1000;
  const exhausted =
    (missingScopes.length > 0 && missingScopes.every((s) => askedScopes.includes(s))) ||
    (!met.acr && (rules.acrValues ?? []).every((v) => askedAcr.includes(v))) ||
    (!met.age && asked.maxAge !== undefined && asked.maxAge <= (rules.maxAge as number) && loginIsFresh);

  const scope = [...new Set([...provider.scope, ...askedScopes, ...(missingScopes.length > 0 ? [...(granted ?? []), ...missingScopes] : [])])];
  const params: Record<string, string> = { ...provider.authorizationParams, ...(missingScopes.length > 0 ? provider.incrementalAuthorizationParams : {}) };
  const stepUp: StepUpRequest = {};
  if (scope.join(' ') !== provider.scope.join(' ')) stepUp.scope = scope.join(' ');
  if (!met.acr) {
    params.acr_values = (rules.acrValues as readonly string[]).join(' ');
    params.prompt = withLoginPrompt(params.prompt);
    stepUp.acrValues = params.acr_values;
  }
  if (!met.age) {
    const configured = Number(params.max_age);
    const maxAge = Number.isInteger(configured) && configured >= 0 ? Math.min(configured, rules.maxAge as number) : (rules.maxAge as number);
    params.max_age = String(maxAge);
    stepUp.maxAge = maxAge;
  }
  return { authentication: !met.acr || !met.age, missingScopes, exhausted, login: { scope, params, stepUp } };
}
