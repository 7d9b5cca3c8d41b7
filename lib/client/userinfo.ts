import { OAUTH_CODES, OAuthError } from '../errors.js';
import type { EndedTokens } from '../session/token-records.js';
import { readUserInfoResponse, userInfoTransportError } from '../protocol/userinfo.js';
import { prepareRequest, type ApiTarget, type PreparedRequest } from './bearer.js';
import { sendAuthorized } from './dpop-transport.js';
import type { ProviderLink } from './provider-link.js';
import { ATTR } from '../telemetry/attributes.js';

/**
 * A GET of the provider's UserInfo endpoint, ready for the bearer transport: the provider's API
 * settings (token placement, extra headers and query) with the endpoint's own origin allowed, since
 * it is the provider's endpoint (configured or discovered), not an API URL a caller passed in.
 */
export async function prepareUserInfoRequest(link: ProviderLink): Promise<{ target: ApiTarget; request: PreparedRequest }> {
  const url = await link.userinfoUrl();
  if (!url) {
    throw new OAuthError(OAUTH_CODES.USERINFO, `No UserInfo endpoint is known for provider "${link.name}": set \`userinfoUrl\` (or \`issuer\`, to discover it).`, { status: 500 });
  }
  const { apiBaseUrl, allowedOrigins, tokenPlacement, extraQuery, apiHeaders } = link.provider;
  const target: ApiTarget = { apiBaseUrl, allowedOrigins: new Set([...allowedOrigins, new URL(url).origin]), tokenPlacement, extraQuery, apiHeaders };
  const request = prepareRequest(target, url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(link.timeoutMs) });
  return { target, request };
}

/**
 * `fetchUserInfo: true` at login: the UserInfo claims of the new tokens (with a DPoP proof when they
 * are bound) merged with the verified ID-token claims (these win; OIDC Core §5.3.2: the UserInfo
 * `sub` must equal the ID token's). Fails the login on any failure (502, 504 on timeout); the
 * caller revokes the new tokens.
 */
export function userInfoAtLogin(link: ProviderLink, issued: EndedTokens, idTokenClaims: Record<string, unknown> | undefined): Promise<Record<string, unknown>> {
  return link.telemetry.span('oauth2.userinfo', { [ATTR.provider]: link.name }, async () => {
    const { target, request } = await prepareUserInfoRequest(link);
    const res = await sendAuthorized(target, request, issued, link.outbound).catch((err: unknown) => {
      throw userInfoTransportError(err);
    });
    const sub = typeof idTokenClaims?.sub === 'string' ? idTokenClaims.sub : undefined;
    const claims = await readUserInfoResponse(res, sub);
    return { ...claims, ...idTokenClaims };
  });
}
