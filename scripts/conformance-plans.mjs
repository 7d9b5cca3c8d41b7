// The OpenID Foundation relying-party test plans this package reproduces in test/conformance/
// (issue 24), one entry per plan, one row per module. scripts/conformance-report.mjs turns this
// list and the test names into CONFORMANCE.md; test/conformance/report.test.ts fails when that
// file is out of date.
//
// To add a plan or a module: add it here, then write ONE test per module in the plan's `file`,
// named by the module ID followed by ': ' (e.g. `it('rp-id_token-aud: refuses …', …)`), and run
// `node scripts/conformance-report.mjs`. A module without its test shows as "pending"; a module
// the package does not implement on purpose gets `notApplicable: 'why'` (and no test); a module
// still being built, `pending: 'what'` on its plan (shown until its test exists); a module
// whose test asserts behaviour other than the plan's gets `deviation: 'why'`.
//
// expects: what the plan requires of the RP: 'accept' (the login or call succeeds), 'reject' (the
// error, no session and no further call to the provider), 'either' (the plan allows both).

/** The Basic RP modules (also the Form Post RP list, with response_mode=form_post). */
const BASIC_MODULES = [
  { id: 'rp-response_type-code', expects: 'accept', what: 'code flow login; access token in the Authorization header' },
  { id: 'rp-id_token-issuer-mismatch', expects: 'reject', what: 'ID token `iss` is not the issuer' },
  { id: 'rp-id_token-sub', expects: 'reject', what: 'ID token without `sub`' },
  { id: 'rp-id_token-aud', expects: 'reject', what: 'ID token for another client (`aud`)' },
  { id: 'rp-id_token-iat', expects: 'reject', what: 'ID token without `iat`' },
  { id: 'rp-id_token-kid-absent-single-jwks', expects: 'accept', what: 'no `kid`, one key in the JWKS' },
  { id: 'rp-id_token-kid-absent-multiple-jwks', expects: 'either', what: 'no `kid`, several keys in the JWKS (refused)' },
  { id: 'rp-id_token-sig-rs256', expects: 'accept', what: 'RS256-signed ID token' },
  {
    id: 'rp-id_token-sig-none',
    expects: 'accept',
    what: 'unsigned ID token (`alg: none`) from the token endpoint',
    deviation: 'refused by design: the package never accepts an unsigned ID token (SECURITY.md row 24.2); the test asserts the refusal',
  },
  { id: 'rp-id_token-bad-sig-rs256', expects: 'reject', what: 'RS256 ID token with a bad signature' },
  { id: 'rp-userinfo-bad-sub-claim', expects: 'reject', what: 'UserInfo `sub` differs from the ID token' },
  { id: 'rp-nonce-invalid', expects: 'reject', what: 'ID token `nonce` is not the one sent' },
  { id: 'rp-scope-userinfo-claims', expects: 'accept', what: '`profile` and `email` scopes; their claims from UserInfo' },
  { id: 'rp-token_endpoint-client_secret_basic', expects: 'accept', what: 'client_secret_basic at the token endpoint' },
];

/** The FAPI 2.0 Security Profile client plan's modules (its DPoP variant; the mTLS variant drops the two DPoP ones). */
const FAPI2_SP = 'fapi2-security-profile-final-client-test-';
const FAPI2_SP_DPOP_ONLY = new Set([`${FAPI2_SP}rs-dpop-auth-scheme-case-insensitivity`, `${FAPI2_SP}happy-path-no-dpop-nonce`]);
const FAPI2_SP_MODULES = [
  { id: `${FAPI2_SP}happy-path`, expects: 'accept', what: 'PAR with PKCE S256 and private_key_jwt, DPoP nonce challenges at the token endpoint and the resource, DPoP-bound token at the resource' },
  { id: `${FAPI2_SP}discovery-issuer-mismatch`, expects: 'reject', what: 'discovery names another issuer (502, no authorization request)' },
  { id: `${FAPI2_SP}invalid-iss`, expects: 'reject', what: 'ID token from another issuer' },
  { id: `${FAPI2_SP}invalid-aud`, expects: 'reject', what: 'ID token for another client' },
  { id: `${FAPI2_SP}invalid-secondary-aud`, expects: 'reject', what: 'ID token `aud` array with an untrusted second client and no `azp`' },
  { id: `${FAPI2_SP}invalid-null-alg`, expects: 'reject', what: 'unsigned ID token (`alg: none`)' },
  { id: `${FAPI2_SP}invalid-alternate-alg`, expects: 'reject', what: 'ID token signed with RS256 (FAPI 2.0: PS256, ES256, EdDSA only)' },
  { id: `${FAPI2_SP}invalid-expired-exp`, expects: 'reject', what: 'expired ID token' },
  { id: `${FAPI2_SP}invalid-missing-exp`, expects: 'reject', what: 'ID token without `exp`' },
  { id: `${FAPI2_SP}invalid-missing-aud`, expects: 'reject', what: 'ID token without `aud`' },
  { id: `${FAPI2_SP}invalid-missing-iss`, expects: 'reject', what: 'ID token without `iss`' },
  { id: `${FAPI2_SP}valid-aud-as-array`, expects: 'accept', what: 'ID token `aud` as an array holding the client' },
  { id: `${FAPI2_SP}invalid-nonce`, expects: 'reject', what: 'ID token with another `nonce`' },
  { id: `${FAPI2_SP}invalid-missing-nonce`, expects: 'reject', what: 'ID token without the `nonce` sent' },
  { id: `${FAPI2_SP}invalid-authorization-response-iss`, expects: 'reject', what: 'authorization response `iss` from another issuer (400, no token request)' },
  { id: `${FAPI2_SP}remove-authorization-response-iss`, expects: 'reject', what: 'authorization response without `iss` (400, no token request)' },
  { id: `${FAPI2_SP}ensure-authorization-response-with-invalid-state-fails`, expects: 'reject', what: 'authorization response with another `state` (400, no token request)' },
  { id: `${FAPI2_SP}ensure-authorization-response-with-invalid-missing-state-fails`, expects: 'reject', what: 'authorization response without `state` (400, no token request)' },
  { id: `${FAPI2_SP}token-endpoint-response-without-expires_in`, expects: 'accept', what: 'token response without `expires_in`' },
  { id: `${FAPI2_SP}token-type-case-insensitivity`, expects: 'accept', what: '`token_type: dPoP`' },
  { id: `${FAPI2_SP}rs-dpop-auth-scheme-case-insensitivity`, expects: 'accept', what: 'resource `use_dpop_nonce` challenge with the scheme `dPoP`: one retry with its nonce' },
  { id: `${FAPI2_SP}happy-path-no-dpop-nonce`, expects: 'accept', what: 'a server that asks for no DPoP nonce' },
  { id: `${FAPI2_SP}happy-path-no-mtls-endpoint-aliases`, expects: 'accept', what: 'no `mtls_endpoint_aliases` in discovery (the DPoP variant)' },
];
const FAPI2_SP_NOT_WITH_JARM = new Set([`${FAPI2_SP}invalid-authorization-response-iss`, `${FAPI2_SP}remove-authorization-response-iss`]);
/** What differs in the Message Signing variant's rows. */
const FAPI2_MS_WHAT = {
  [`${FAPI2_SP}happy-path`]: 'a signed request object pushed (PAR), the JARM response verified, DPoP nonce challenges answered, DPoP-bound token at the resource',
  [`${FAPI2_SP}ensure-authorization-response-with-invalid-state-fails`]: 'a validly signed JARM response with another `state` (400, no token request)',
  [`${FAPI2_SP}ensure-authorization-response-with-invalid-missing-state-fails`]: 'a validly signed JARM response without `state` (400, no token request)',
};
/** What differs in the mTLS variant's rows. */
const FAPI2_SP_MTLS_WHAT = {
  [`${FAPI2_SP}happy-path`]: 'PAR with PKCE S256 and tls_client_auth at the mTLS aliases, certificate-bound token used with the same certificate',
  [`${FAPI2_SP}token-type-case-insensitivity`]: '`token_type: bEARER`',
  [`${FAPI2_SP}happy-path-no-mtls-endpoint-aliases`]: 'no `mtls_endpoint_aliases`: discovery names the TLS endpoints directly',
};

export const PLANS = [
  {
    id: 'oidcc-client-basic-certification-test-plan',
    name: 'Basic RP',
    file: 'test/conformance/basic-rp.test.ts',
    modules: BASIC_MODULES,
  },
  {
    id: 'oidcc-client-config-certification-test-plan',
    name: 'Config RP',
    file: 'test/conformance/config-rp.test.ts',
    modules: [
      { id: 'rp-discovery-openid-configuration', expects: 'accept', what: 'endpoints and keys from the discovery document' },
      { id: 'rp-discovery-jwks_uri-keys', expects: 'accept', what: 'signing keys from the discovered `jwks_uri`' },
      { id: 'rp-discovery-issuer-not-matching-config', expects: 'reject', what: 'discovery `issuer` differs from the configured one' },
      { id: 'rp-key-rotation-op-sign-key', expects: 'accept', what: 'the provider rotates its signing key between two logins' },
      { id: 'rp-key-rotation-op-sign-key-native', expects: 'accept', what: 'rotation just before signing: an unknown `kid` refetches the JWKS once; a removed key is refused' },
    ],
  },
  {
    id: 'oidcc-client-formpost-basic-certification-test-plan',
    name: 'Form Post RP',
    file: 'test/conformance/form-post-rp.test.ts',
    modules: BASIC_MODULES,
  },
  {
    id: 'oidcc-client-rp-initiated-logout-rp-basic',
    name: 'RP-Initiated Logout RP',
    file: 'test/conformance/rp-initiated-logout.test.ts',
    modules: [
      {
        id: 'oidcc-client-test-rp-init-logout',
        expects: 'accept',
        what: 'end-session redirect with `id_token_hint` and `state` (sent when the logout has a `returnTo`, the one thing it carries); back to `returnTo`',
      },
      { id: 'oidcc-client-test-rp-init-logout-other-state', expects: 'reject', what: 'the provider comes back with another `state`' },
      { id: 'oidcc-client-test-rp-init-logout-no-state', expects: 'reject', what: 'the provider comes back without `state`' },
    ],
  },
  {
    id: 'oidcc-client-back-channel-logout-rp-basic',
    name: 'Back-Channel Logout RP',
    file: 'test/conformance/backchannel-logout.test.ts',
    modules: [
      { id: 'oidcc-client-test-rp-backchannel-rpinitlogout', expects: 'accept', what: 'a valid logout token ends the session (200)' },
      { id: 'oidcc-client-test-rp-backchannel-rpinitlogout-alg-none', expects: 'reject', what: 'logout token with `alg: none` (400)' },
      { id: 'oidcc-client-test-rp-backchannel-rpinitlogout-no-event', expects: 'reject', what: 'logout token without the logout event (400)' },
      { id: 'oidcc-client-test-rp-backchannel-rpinitlogout-with-nonce', expects: 'reject', what: 'logout token with a `nonce` (400)' },
      { id: 'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg', expects: 'reject', what: 'logout token signed with an alg the provider does not use for ID tokens (400)' },
      { id: 'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-aud', expects: 'reject', what: 'logout token for another client (400)' },
      { id: 'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-event', expects: 'reject', what: 'logout token with another event (400)' },
      { id: 'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-iss', expects: 'reject', what: 'logout token from another issuer (400)' },
    ],
  },
  {
    id: 'oidcc-client-front-channel-logout-rp-basic',
    name: 'Front-Channel Logout RP',
    file: 'test/conformance/frontchannel-logout.test.ts',
    modules: [{ id: 'oidcc-client-test-rp-frontchannel-rpinitlogout', expects: 'accept', what: 'the front-channel logout iframe (`iss`, `sid`) ends the session' }],
  },
  {
    id: 'oidcc-client-refreshtoken-test-plan',
    name: 'Refresh Token (not part of certification)',
    file: 'test/conformance/refresh-token.test.ts',
    modules: [
      { id: 'oidcc-client-test-refresh-token', expects: 'accept', what: 'refresh; the refreshed ID token names the same user' },
      { id: 'oidcc-client-test-refresh-token-invalid-issuer', expects: 'reject', what: 'refreshed ID token with another `iss`: the response is refused' },
      { id: 'oidcc-client-test-refresh-token-invalid-sub', expects: 'reject', what: 'refreshed ID token with another `sub`: the response is refused' },
      { id: 'oidcc-client-test-refresh-token-invalid-aud', expects: 'reject', what: 'refreshed ID token for another client: the response is refused' },
      { id: 'oidcc-client-test-refresh-token-invalid-azp', expects: 'reject', what: 'refreshed ID token with another `azp`: the response is refused' },
    ],
  },
  {
    // Issue 25: the FAPI 2.0 Security Profile client plan in the variant private_key_jwt + DPoP,
    // OpenID Connect, plain responses (the plan's other modules are Brazil refresh and Grant Management).
    id: 'fapi2-security-profile-final-client-test-plan',
    name: 'FAPI 2.0 Security Profile RP (private_key_jwt + DPoP)',
    file: 'test/conformance/fapi2-security-profile-rp.test.ts',
    modules: FAPI2_SP_MODULES,
  },
  {
    // The same plan in the variant client_auth_type mtls + sender_constrain mtls (RFC 8705); its two
    // DPoP modules do not apply to it.
    id: 'fapi2-security-profile-final-client-test-plan',
    name: 'FAPI 2.0 Security Profile RP (tls_client_auth + mTLS-bound tokens)',
    file: 'test/conformance/fapi2-security-profile-mtls-rp.test.ts',
    modules: FAPI2_SP_MODULES.filter((m) => !FAPI2_SP_DPOP_ONLY.has(m.id)).map((m) => ({ ...m, what: FAPI2_SP_MTLS_WHAT[m.id] ?? m.what })),
  },
  {
    // The Message Signing plan's other modules: the Security Profile ones in the variant
    // private_key_jwt + DPoP with JAR and JARM (the two on the plain response's `iss` do not apply to JARM).
    id: 'fapi2-message-signing-final-client-test-plan',
    name: 'FAPI 2.0 Message Signing RP (private_key_jwt + DPoP, JAR + JARM)',
    file: 'test/conformance/fapi2-message-signing-rp.test.ts',
    modules: FAPI2_SP_MODULES.filter((m) => !FAPI2_SP_NOT_WITH_JARM.has(m.id)).map((m) => ({ ...m, what: FAPI2_MS_WHAT[m.id] ?? m.what })),
  },
  {
    // Helper "fapi" (issue 25): the JARM modules of the FAPI 2.0 Message Signing client plan.
    id: 'fapi2-message-signing-final-client-test-plan',
    name: 'FAPI 2.0 Message Signing RP (JARM modules)',
    file: 'test/conformance/fapi2-rp.test.ts',
    modules: [
      { id: 'fapi2-security-profile-final-client-test-ensure-jarm-without-iss-fails', expects: 'reject', what: 'JARM response without `iss`' },
      { id: 'fapi2-security-profile-final-client-test-ensure-jarm-with-invalid-iss-fails', expects: 'reject', what: 'JARM response from another issuer' },
      { id: 'fapi2-security-profile-final-client-test-ensure-jarm-without-aud-fails', expects: 'reject', what: 'JARM response without `aud`' },
      { id: 'fapi2-security-profile-final-client-test-ensure-jarm-with-invalid-aud-fails', expects: 'reject', what: 'JARM response for another client' },
      { id: 'fapi2-security-profile-final-client-test-ensure-jarm-without-exp-fails', expects: 'reject', what: 'JARM response without `exp`' },
      { id: 'fapi2-security-profile-final-client-test-ensure-jarm-with-expired-exp-fails', expects: 'reject', what: 'expired JARM response' },
      { id: 'fapi2-security-profile-final-client-test-ensure-jarm-with-invalid-sig-fails', expects: 'reject', what: 'JARM response with a bad signature' },
      { id: 'fapi2-security-profile-final-client-test-ensure-jarm-signature-is-not-none', expects: 'reject', what: 'unsigned JARM response (`alg: none`)' },
    ],
  },
];
