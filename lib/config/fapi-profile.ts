// The `profile` option: the client rules of the FAPI 2.0 Security Profile (and, with
// 'fapi2-message-signing', of FAPI 2.0 Message Signing), checked once at startup. Each rule has an
// id that the TypeError names beside the option path, and docs/fapi.md lists them.
import type { OptionPath } from './assert.js';
import { REQUEST_OBJECT_ALGS } from './message-security.js';
import type { ClientAssertionKey, FapiProfile, ProviderOptions, ResponseMode, TokenEndpointAuthMethod } from './options.js';

export const FAPI_PROFILES: readonly FapiProfile[] = ['fapi2', 'fapi2-message-signing'];

/** What the rules look at: the options as given, and what resolving them decided. */
export interface ProfileSubject {
  input: ProviderOptions;
  method: TokenEndpointAuthMethod;
  clientAssertion: ClientAssertionKey | undefined;
  requestObjectKey: ClientAssertionKey | undefined;
  responseMode: ResponseMode;
  mtls: boolean;
}

interface ProfileRule {
  /** e.g. `fapi2.pkce` (docs/fapi.md). */
  id: string;
  /** The option the error names. */
  option: keyof ProviderOptions;
  /** Only with this profile (default: both). */
  only?: FapiProfile;
  /** The problem, or undefined when the subject obeys the rule. */
  check(subject: ProfileSubject): string | undefined;
}

const FAPI_AUTH_METHODS = ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'];

/** FAPI 2.0 Security Profile §5.2–5.4 (client side) and FAPI 2.0 Message Signing §5.3–5.4. */
export const FAPI_RULES: readonly ProfileRule[] = [
  {
    id: 'fapi2.issuer',
    option: 'issuer',
    check: ({ input }) => (input.issuer ? undefined : 'is required: PAR, the `iss` checks and discovery need the issuer'),
  },
  {
    id: 'fapi2.par',
    option: 'pushedAuthorizationRequests',
    check: ({ input }) => (input.pushedAuthorizationRequests === false ? 'cannot be false: FAPI 2.0 sends every authorization request with PAR' : undefined),
  },
  {
    id: 'fapi2.pkce',
    option: 'pkce',
    check: ({ input }) => (input.pkce === false ? 'cannot be false: FAPI 2.0 requires PKCE with S256' : undefined),
  },
  {
    id: 'fapi2.client-auth',
    option: 'tokenEndpointAuthMethod',
    check: ({ method }) =>
      FAPI_AUTH_METHODS.includes(method) ? undefined : `is "${method}": FAPI 2.0 clients are confidential and authenticate with ${FAPI_AUTH_METHODS.map((m) => `"${m}"`).join(' or ')}`,
  },
  {
    id: 'fapi2.sender-constrained',
    option: 'dpop',
    check: ({ input, mtls }) => (input.dpop === true || mtls ? undefined : 'must be true unless `tlsClientCertificate` is set: FAPI 2.0 tokens are DPoP- or mTLS-bound'),
  },
  {
    id: 'fapi2.algorithms',
    option: 'clientAssertionAlg',
    check: ({ clientAssertion }) =>
      clientAssertion && !REQUEST_OBJECT_ALGS.includes(clientAssertion.alg)
        ? `is ${clientAssertion.alg}: FAPI 2.0 allows only ${REQUEST_OBJECT_ALGS.join(', ')} (set clientAssertionAlg: 'PS256' for an RSA key)`
        : undefined,
  },
  {
    id: 'fapi2.iss-check',
    option: 'authorizationResponseIssParameterSupported',
    check: ({ input }) => (input.authorizationResponseIssParameterSupported === false ? 'cannot be false: FAPI 2.0 requires the RFC 9207 `iss` check on every response' : undefined),
  },
  {
    id: 'fapi2-message-signing.jar',
    option: 'requestObjects',
    only: 'fapi2-message-signing',
    check: ({ requestObjectKey }) => (requestObjectKey ? undefined : 'must be true: FAPI 2.0 Message Signing signs every authorization request (JAR)'),
  },
  {
    id: 'fapi2-message-signing.jarm',
    option: 'responseMode',
    only: 'fapi2-message-signing',
    check: ({ responseMode }) => (responseMode === 'jwt' ? undefined : `is "${responseMode}": FAPI 2.0 Message Signing requires "jwt" (JARM)`),
  },
];

/** The `profile` option, validated: absent, or one of {@link FAPI_PROFILES}. */
export function assertProfile(value: unknown, at: OptionPath): FapiProfile | undefined {
  if (value !== undefined && !FAPI_PROFILES.includes(value as FapiProfile)) throw at.error(`must be one of ${FAPI_PROFILES.map((p) => `"${p}"`).join(', ')}`);
  return value as FapiProfile | undefined;
}

/**
 * Throw the first rule of `profile` the subject breaks, as a TypeError naming the option path and
 * the rule (`err.rule`), e.g. ``oauthMiddleware: `pkce` cannot be false: … [profile "fapi2", rule fapi2.pkce]``.
 */
export function assertFapiProfile(profile: FapiProfile | undefined, subject: ProfileSubject, at: OptionPath): void {
  if (profile === undefined) return;
  for (const rule of FAPI_RULES) {
    if (rule.only !== undefined && rule.only !== profile) continue;
    const problem = rule.check(subject);
    if (problem === undefined) continue;
    const err = at.key(rule.option).error(`${problem} [profile "${profile}", rule ${rule.id}]`) as TypeError & { rule?: string };
    err.rule = rule.id;
    throw err;
  }
}
