import { matchesIssuer } from '../config/issuer-template.js';
import { AuthorizationResponseError, InvalidCallbackError, OAUTH_CODES } from '../errors.js';
import type { ProviderEndpoints } from './discovery.js';

const ERROR_STATUS: Record<string, number> = { access_denied: 403, server_error: 502, temporarily_unavailable: 503 };
const MAX_STATE_LENGTH = 512;
const MAX_CODE_LENGTH = 4096;
/** Implicit/hybrid/JARM artifacts we never ask for: their presence is an injection attempt (RFC 9700 §4.6). */
const FOREIGN_ARTIFACTS = ['access_token', 'id_token', 'token', 'response'];

/** Exactly one non-empty value within `maxLength`, else a 400 naming the parameter. */
function exactlyOne(params: URLSearchParams, name: string, maxLength: number): string {
  const all = params.getAll(name);
  if (all.length !== 1 || !all[0] || all[0].length > maxLength) {
    throw new InvalidCallbackError(`The callback must carry exactly one "${name}" parameter.`);
  }
  return all[0];
}

/**
 * Step 1 of the callback (RFC 6749 §4.1.2): exactly one `state`, and no artifact of a flow this
 * client never uses. Also returns the `code` when there is exactly one (undefined otherwise: an
 * error response, or a malformed callback that `readAuthorizationResponse` rejects).
 */
export function readCallbackState(params: URLSearchParams): { state: string; code: string | undefined } {
  const state = exactlyOne(params, 'state', MAX_STATE_LENGTH);
  if (FOREIGN_ARTIFACTS.some((name) => params.has(name))) {
    throw new InvalidCallbackError('The callback carries token artifacts of a flow this client never uses.');
  }
  const codes = params.getAll('code');
  return { state, code: codes.length === 1 && codes[0] ? codes[0] : undefined };
}

/**
 * Steps 2–4 of the callback, after its transaction was claimed: the mix-up defence (RFC 9207:
 * never another configured provider's issuer; this provider's issuer when known, required when
 * the AS promises it),
 * the AS's error response (RFC 6749 §4.1.2.1; only a safe error code is kept, never the text),
 * then exactly one `code`. Returns the code to redeem.
 */
export function readAuthorizationResponse(params: URLSearchParams, endpoints: ProviderEndpoints): string {
  const iss = params.getAll('iss');
  if (iss.length > 1) throw new InvalidCallbackError('The callback carries more than one "iss".', OAUTH_CODES.MIX_UP);
  // Even a provider configured without `issuer` knows the others' issuers: a response issued by
  // one of them was sent here by a provider that forwarded the login (mix-up, RFC 9207 §2.4).
  if (iss.length === 1 && endpoints.foreignIssuers.includes(iss[0] as string)) {
    throw new InvalidCallbackError('The callback "iss" names another configured provider (mix-up attack?).', OAUTH_CODES.MIX_UP);
  }
  if (endpoints.issuer !== undefined) {
    if (iss.length === 1 && !matchesIssuer(endpoints.issuer, iss[0] as string)) {
      throw new InvalidCallbackError('The callback "iss" is not this provider\'s issuer (mix-up attack?).', OAUTH_CODES.MIX_UP);
    }
    if (iss.length === 0 && endpoints.issParameterRequired) {
      throw new InvalidCallbackError('The callback lacks the "iss" parameter this provider promises.', OAUTH_CODES.MIX_UP);
    }
  }
  const errors = params.getAll('error');
  if (errors.length > 0 && params.has('code')) throw new InvalidCallbackError('The callback carries both "code" and "error".');
  if (errors.length > 1) throw new InvalidCallbackError('The callback carries more than one "error".');
  if (errors.length > 0) {
    const code = /^[A-Za-z0-9_.-]{1,64}$/.test(errors[0] ?? '') ? (errors[0] as string) : 'invalid_error';
    throw new AuthorizationResponseError(code, ERROR_STATUS[code] ?? 400);
  }
  return exactlyOne(params, 'code', MAX_CODE_LENGTH);
}
