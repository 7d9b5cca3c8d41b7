// The test provider's resource servers (RFC 8707): `opts.resourceServers` as oidc-provider's
// resource-server info, for resource indicators and for the token-exchange grant alike.
import { errors as oidcErrors } from 'oidc-provider';

/** oidc-provider's info for one configured resource server (`indicator` names it). */
export function resourceServerInfo(rs, indicator) {
  return {
    scope: rs.scope ?? '',
    audience: rs.audience ?? indicator,
    accessTokenFormat: rs.accessTokenFormat ?? 'opaque',
    ...(rs.accessTokenTTL ? { accessTokenTTL: rs.accessTokenTTL } : {}),
    ...(rs.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: 'RS256' } } } : {}),
  };
}

/** oidc-provider's `features.resourceIndicators` for `resourceServers`. */
export function resourceIndicatorsFeature(resourceServers) {
  return {
    enabled: true,
    // No `resource` parameter -> no resource -> opaque token usable at /me (userinfo). A grant
    // covering several resources (RFC 8707 §2.1, one per API) gives the login's own token
    // (UserInfo) when the token request names none: each API's token is asked for by name.
    defaultResource: (_ctx, _client, oneOf) => oneOf,
    useGrantedResource: (_ctx, model) => !(Array.isArray(model.resource) && model.resource.length > 1),
    getResourceServerInfo(_ctx, resourceIndicator) {
      const rs = resourceServers[resourceIndicator];
      if (!rs) throw new oidcErrors.InvalidTarget(`unknown resource ${resourceIndicator}`);
      return resourceServerInfo(rs, resourceIndicator);
    },
  };
}
