// Environment → example-app options. Reading the environment happens here and in server.ts only;
// the library never reads process.env.
import { providers, type OAuthMiddlewareOptions } from 'express-oauth2-session';

export interface RealProviderSetup {
  oauth: OAuthMiddlewareOptions;
  profileApiUrl: string;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is required with OAUTH_PROVIDER=${env.OAUTH_PROVIDER} (see .env.example)`);
  return value;
}

/** The provider named by OAUTH_PROVIDER, or undefined for the embedded test provider. */
export function realProviderFromEnv(env: NodeJS.ProcessEnv, appUrl: string): RealProviderSetup | undefined {
  const name = env.OAUTH_PROVIDER;
  if (!name) return undefined;
  const client = {
    clientId: required(env, 'OAUTH_CLIENT_ID'),
    clientSecret: required(env, 'OAUTH_CLIENT_SECRET'),
    redirectUri: env.OAUTH_REDIRECT_URI ?? `${appUrl}/callback`,
  };
  switch (name) {
    case 'github':
      return { oauth: { ...providers.github(), ...client, scope: ['read:user'] }, profileApiUrl: '/user' };
    case 'google':
      return { oauth: { ...providers.google(), ...client, scope: ['openid', 'profile', 'email'] }, profileApiUrl: 'https://openidconnect.googleapis.com/v1/userinfo' };
    case 'battlenet': {
      const region = (env.BATTLENET_REGION ?? 'us') as 'us' | 'eu' | 'kr' | 'tw' | 'cn';
      return {
        oauth: { ...providers.battlenet({ region }), ...client, scope: ['openid'] },
        profileApiUrl: region === 'cn' ? 'https://oauth.battlenet.com.cn/userinfo' : 'https://oauth.battle.net/userinfo',
      };
    }
    case 'stackexchange':
      return {
        oauth: { ...providers.stackexchange({ key: required(env, 'STACKEXCHANGE_KEY') }), ...client, scope: ['no_expiry'] },
        profileApiUrl: '/2.3/me?site=stackoverflow',
      };
    case 'entra': {
      // Microsoft Entra ID: a tenant id, or "organizations" / "common" (multi-tenant: the ID token's
      // issuer names the user's tenant), optionally limited to ENTRA_ALLOWED_TENANTS.
      const allowed = env.ENTRA_ALLOWED_TENANTS?.split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      const oauth = { ...providers.entra({ tenant: env.ENTRA_TENANT ?? 'organizations' }), ...client, scope: ['openid', 'profile', 'email'], ...(allowed?.length ? { allowedTenants: allowed } : {}) };
      return { oauth, profileApiUrl: 'https://graph.microsoft.com/oidc/userinfo' };
    }
    case 'oidc':
      return { oauth: { ...providers.oidc({ issuer: required(env, 'OAUTH_ISSUER') }), ...client, scope: ['openid', 'profile', 'email'] }, profileApiUrl: required(env, 'OAUTH_PROFILE_API_URL') };
    default:
      throw new Error(`OAUTH_PROVIDER must be github, google, battlenet, stackexchange, entra or oidc (got "${name}")`);
  }
}

/** OAUTH_RESPONSE_MODE=form_post: the provider POSTs the login's answer back (docs/logout-and-response-modes.md). */
export function responseModeFromEnv(env: NodeJS.ProcessEnv): { responseMode?: 'query' | 'form_post' } {
  const mode = env.OAUTH_RESPONSE_MODE;
  if (mode === undefined || mode === '') return {};
  if (mode !== 'query' && mode !== 'form_post') throw new Error(`OAUTH_RESPONSE_MODE must be query or form_post (got "${mode}")`);
  return { responseMode: mode };
}
