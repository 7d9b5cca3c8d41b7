// The test provider's authentication context: the acr a login gets (its dev login form has no
// authentication levels) and the RFC 9470 claims of a token (acr, auth_time).

/** The dev login form has no authentication levels: give each login the acr its request asked for. */
export function assignAcrAtLogin(provider, acrValues) {
  const finish = provider.interactionResult.bind(provider);
  provider.interactionResult = async (req, res, result, options) => {
    if (result?.login && result.login.acr === undefined) {
      const { params } = await provider.interactionDetails(req, res);
      const asked = typeof params.acr_values === 'string' ? params.acr_values.split(' ') : [];
      const acr = asked.find((v) => acrValues.includes(v)) ?? acrValues[0];
      return finish(req, res, { ...result, login: { ...result.login, acr } }, options);
    }
    return finish(req, res, result, options);
  };
}

/** RFC 9470 §6: the authentication behind a token (from the code or refresh token it was issued for). */
export async function authContextClaims(ctx) {
  const { AuthorizationCode: code, RefreshToken: refresh } = ctx.oidc.entities;
  const from = code ?? refresh;
  if (!from) return undefined;
  return { ...(from.acr ? { acr: from.acr } : {}), ...(typeof from.authTime === 'number' ? { auth_time: from.authTime } : {}) };
}
