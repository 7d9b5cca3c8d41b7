// The test provider's RFC 8693 token-exchange grant (oidc-provider has none built in), with DPoP
// binding of the exchanged token (RFC 9449).
import { errors as oidcErrors } from 'oidc-provider';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';
import { resourceServerInfo } from './resource-servers.mjs';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/**
 * RFC 9449 §4.3 at the token endpoint, for the token-exchange grant (oidc-provider checks DPoP
 * proofs only in its own grants): a proof of a fresh ES256/EdDSA key for this POST and URL, its
 * `jti` not seen before. Returns the key's thumbprint, or undefined without a proof (refused then
 * for a client registered with `dpop_bound_access_tokens`). No server nonces for this grant.
 */
async function exchangeDpopThumbprint(provider, ctx, tokenUrl) {
  const proof = ctx.get('dpop');
  if (!proof) {
    if (ctx.oidc.client.dpopBoundAccessTokens) throw new oidcErrors.InvalidGrant('DPoP proof JWT not provided');
    return undefined;
  }
  let verified;
  try {
    verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256', 'EdDSA'], maxTokenAge: 60 });
  } catch {
    throw new oidcErrors.InvalidDpopProof('the DPoP proof does not verify');
  }
  const { payload, protectedHeader } = verified;
  if (payload.htm !== 'POST' || payload.htu !== tokenUrl) throw new oidcErrors.InvalidDpopProof('the DPoP proof is for another request');
  if (typeof payload.jti !== 'string' || !(await provider.ReplayDetection.unique(ctx.oidc.client.clientId, payload.jti, payload.iat + 60))) {
    throw new oidcErrors.InvalidDpopProof('DPoP proof JWT replay detected');
  }
  return calculateJwkThumbprint(protectedHeader.jwk);
}

/**
 * RFC 8693 token exchange: an active access token of this provider (`subject_token`) for a token
 * for one of `resourceServers` (named by `resource` or `audience`), scope cut to that server's.
 * With a DPoP proof the new token is bound to the proof's key (RFC 9449), as in every other grant.
 */
export function registerTokenExchange(provider, resourceServers, tokenUrl) {
  const parameters = ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'audience', 'resource', 'scope'];
  provider.registerGrantType(
    TOKEN_EXCHANGE_GRANT,
    async (ctx) => {
      const { params, client } = ctx.oidc;
      if (params.subject_token_type !== ACCESS_TOKEN_TYPE) throw new oidcErrors.InvalidRequest(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
      if (params.requested_token_type && params.requested_token_type !== ACCESS_TOKEN_TYPE) throw new oidcErrors.InvalidRequest('only access tokens are issued');
      const subject = params.subject_token ? await provider.AccessToken.find(params.subject_token).catch(() => undefined) : undefined;
      if (!subject || subject.isExpired) throw new oidcErrors.InvalidGrant('subject_token is not an active access token');
      const target = params.resource ?? params.audience;
      const rs = target === undefined ? undefined : resourceServers[target];
      if (!rs) throw new oidcErrors.InvalidTarget('unknown audience or resource');
      const allowed = new Set((rs.scope ?? '').split(' ').filter(Boolean));
      const asked = params.scope ? params.scope.split(' ') : [...allowed];
      const scope = asked.filter((s) => allowed.has(s)).join(' ');
      const jkt = await exchangeDpopThumbprint(provider, ctx, tokenUrl);
      const token = new provider.AccessToken({ accountId: subject.accountId, client, grantId: subject.grantId, gty: 'token_exchange', scope: scope || undefined });
      if (jkt) token.setThumbprint('jkt', jkt);
      token.resourceServer = new provider.ResourceServer(target, resourceServerInfo(rs, target));
      const value = await token.save();
      ctx.body = { access_token: value, issued_token_type: ACCESS_TOKEN_TYPE, token_type: token.tokenType, expires_in: token.expiration, ...(token.scope ? { scope: token.scope } : {}) };
    },
    parameters,
  );
}
