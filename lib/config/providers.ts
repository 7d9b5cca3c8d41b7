import { configError } from '../errors.js';
import type { ProviderOptions } from './options.js';

/** What a preset fills in; spread it and add `clientId`, `clientSecret`, `redirectUri`, `scope`. */
export type ProviderPreset = Omit<ProviderOptions, 'clientId' | 'clientSecret' | 'redirectUri'>;

const USER_AGENT = 'express-oauth2-session';

/**
 * GitHub (OAuth apps and GitHub Apps). The token endpoint takes `client_id` and `client_secret` as
 * form parameters, answers form-encoded unless asked for JSON, and reports errors such as
 * `bad_verification_code` (mapped like `invalid_grant`, 400) or `incorrect_client_credentials`
 * (500, for the operator) with HTTP 200; the REST API requires a User-Agent. OAuth-app tokens do
 * not expire (no `expires_in`: never refreshed proactively); GitHub App user tokens expire and rotate.
 * Sources: https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps,
 * https://docs.github.com/en/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors,
 * https://docs.github.com/en/rest/using-the-rest-api/getting-started-with-the-rest-api#user-agent
 */
export function github(): ProviderPreset {
  return {
    authorizationUrl: 'https://github.com/login/oauth/authorize',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    tokenEndpointAuthMethod: 'client_secret_post',
    apiBaseUrl: 'https://api.github.com',
    tokenRequestHeaders: { accept: 'application/json' },
    apiHeaders: { accept: 'application/vnd.github+json', 'user-agent': USER_AGENT },
  };
}

/**
 * Google (OpenID Connect; scope defaults to `openid`). A refresh token is only issued with
 * `access_type=offline` and, for a user who consented before, `prompt=consent`; refresh responses
 * omit `refresh_token` (the old one is kept). Every endpoint is given (no discovery call at
 * startup). Incremental authorization (`requireAuth({ scopes })`) sends `include_granted_scopes=true`, so
 * the new token keeps the scopes granted before. Sources: https://accounts.google.com/.well-known/openid-configuration,
 * https://developers.google.com/identity/protocols/oauth2/web-server#incrementalAuth,
 * https://developers.google.com/identity/protocols/oauth2/web-server#offline
 */
export function google(): ProviderPreset {
  return {
    issuer: 'https://accounts.google.com',
    authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    jwksUri: 'https://www.googleapis.com/oauth2/v3/certs',
    revocationUrl: 'https://oauth2.googleapis.com/revoke',
    apiBaseUrl: 'https://www.googleapis.com',
    allowedOrigins: ['https://www.googleapis.com', 'https://openidconnect.googleapis.com'],
    userinfoUrl: 'https://openidconnect.googleapis.com/v1/userinfo',
    authorizationParams: { access_type: 'offline', prompt: 'consent' },
    incrementalAuthorizationParams: { include_granted_scopes: 'true' },
    scope: ['openid'],
  };
}

export type BattleNetRegion = 'us' | 'eu' | 'kr' | 'tw' | 'cn';
const BATTLENET_REGIONS: readonly BattleNetRegion[] = ['us', 'eu', 'kr', 'tw', 'cn'];

/**
 * Battle.net (Blizzard). One OAuth host for us/eu/kr/tw (an OpenID provider: issuer, JWKS and
 * revocation given, so no discovery call) and a separate one for China; game data APIs live on the
 * region's API host and need `namespace` and `locale` query parameters
 * (`req.oauth.get(path, { query: { namespace: 'static-us', locale: 'en_US' } })`); the user info
 * endpoint is `https://oauth.battle.net/userinfo` (an allowed origin).
 * Sources: https://develop.battle.net/documentation/guides/using-oauth,
 * https://develop.battle.net/documentation/guides/regionality-and-apis,
 * https://oauth.battle.net/.well-known/openid-configuration
 */
export function battlenet(options: { region: BattleNetRegion }): ProviderPreset {
  const region = options?.region;
  if (!BATTLENET_REGIONS.includes(region)) throw configError('battlenet.region', `must be one of ${BATTLENET_REGIONS.join(', ')}`);
  const oauthHost = region === 'cn' ? 'https://oauth.battlenet.com.cn' : 'https://oauth.battle.net';
  const apiBaseUrl = region === 'cn' ? 'https://gateway.battlenet.com.cn' : `https://${region}.api.blizzard.com`;
  const openId = region === 'cn' ? {} : { issuer: oauthHost, jwksUri: `${oauthHost}/jwks/certs`, revocationUrl: `${oauthHost}/revoke`, userinfoUrl: `${oauthHost}/userinfo` };
  return {
    ...openId,
    authorizationUrl: `${oauthHost}/authorize`,
    tokenUrl: `${oauthHost}/token`,
    apiBaseUrl,
    allowedOrigins: [apiBaseUrl, oauthHost],
  };
}

/**
 * Stack Exchange. The token endpoint takes the client credentials as form parameters; its JSON path
 * `/oauth/access_token/json` answers `expires` (not `expires_in`) and no `token_type` (`/oauth/access_token`,
 * also accepted, answers the same fields form-encoded), and no expiry at all with scope `no_expiry`.
 * No refresh tokens. API calls carry the token and the app `key` as query parameters (never logged:
 * debug lines show origin and path only); API errors come as HTTP 400 with `error_id`/`error_name`.
 * Sources: https://api.stackexchange.com/docs/authentication, https://api.stackexchange.com/docs/error-handling
 */
export function stackexchange(options: { key: string }): ProviderPreset {
  if (typeof options?.key !== 'string' || options.key.length === 0) throw configError('stackexchange.key', 'must be your app key (a non-empty string)');
  return {
    authorizationUrl: 'https://stackoverflow.com/oauth',
    tokenUrl: 'https://stackoverflow.com/oauth/access_token/json',
    apiBaseUrl: 'https://api.stackexchange.com',
    tokenEndpointAuthMethod: 'client_secret_post',
    defaultTokenType: 'bearer',
    tokenPlacement: 'query',
    extraQuery: { key: options.key },
  };
}

/**
 * Any OpenID Connect provider: endpoints, JWKS, revocation and end-session are discovered from
 * `issuer` (once, cached; the document's `issuer` must match exactly, OIDC Discovery 1.0 §4.3).
 * Scope defaults to `openid` (an ID token, verified, its claims on `req.oauth.user`).
 */
export function oidc(options: { issuer: string }): ProviderPreset {
  if (typeof options?.issuer !== 'string' || options.issuer.length === 0) throw configError('oidc.issuer', "must be the provider's issuer URL");
  return { issuer: options.issuer, scope: ['openid'] };
}

const ENTRA_HOST = 'https://login.microsoftonline.com';
/** The tenant Entra ID gives personal Microsoft accounts (the `consumers` endpoint's issuer). */
const ENTRA_CONSUMERS_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Microsoft Entra ID (v2.0 endpoints; scope defaults to `openid`). `tenant` is the directory's id
 * (a GUID: a single-tenant app), or `common` (work, school and personal accounts) or
 * `organizations` (work and school accounts of any directory): the multi-tenant endpoints, whose
 * discovery document names the issuer template `https://login.microsoftonline.com/{tenantid}/v2.0`;
 * each ID token's `iss` must then be that template with its own `tid` (add `allowedTenants` to
 * admit only some directories), or `consumers` (personal accounts only). A directory's domain name
 * is refused: its discovery document names the GUID issuer, which would not match.
 * Sources: https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc,
 * https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference
 */
export function entra(options: { tenant: string }): ProviderPreset {
  const tenant = options?.tenant;
  if (typeof tenant !== 'string' || !(GUID.test(tenant) || ['common', 'organizations', 'consumers'].includes(tenant))) {
    throw configError('entra.tenant', 'must be your directory (tenant) id, a GUID, or "common", "organizations" or "consumers"');
  }
  if (tenant === 'common' || tenant === 'organizations') {
    return {
      issuer: `${ENTRA_HOST}/{tenantid}/v2.0`,
      discoveryUrl: `${ENTRA_HOST}/${tenant}/v2.0/.well-known/openid-configuration`,
      scope: ['openid'],
    };
  }
  return {
    issuer: `${ENTRA_HOST}/${tenant === 'consumers' ? ENTRA_CONSUMERS_TENANT : tenant.toLowerCase()}/v2.0`,
    ...(tenant === 'consumers' ? { discoveryUrl: `${ENTRA_HOST}/consumers/v2.0/.well-known/openid-configuration` } : {}),
    scope: ['openid'],
  };
}

/** Presets for real providers: `oauthMiddleware({ ...providers.github(), clientId, clientSecret, redirectUri })`. */
export const providers = { github, google, battlenet, stackexchange, oidc, entra } as const;
