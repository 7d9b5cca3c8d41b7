import { assertString, OptionPath } from '../config/assert.js';
import { GrantClient, resolveBackendOptions, type BackendClientOptions } from './grant-client.js';
import { DpopProofs, type DpopKey } from '../protocol/dpop.js';
import { TokenEndpointClient } from '../protocol/token-endpoint.js';
import { createTelemetry } from '../telemetry/open-telemetry.js';

/** `clientCredentials` options plus the resource owner's credentials. */
export interface PasswordGrantOptions extends BackendClientOptions {
  username: string;
  password: string;
}

/**
 * Resource owner password credentials grant (RFC 6749 §4.3). **Discouraged**: the app handles the
 * user's password, which OAuth exists to avoid, and OAuth 2.1 and the OAuth security BCP (RFC 9700
 * §2.4) remove it. Use it only for a legacy provider that offers nothing else; prefer
 * `oauthMiddleware` (authorization code + PKCE). Same caching and helpers as `clientCredentials`.
 */
export function passwordGrant(options: PasswordGrantOptions): GrantClient {
  const o = resolveBackendOptions(options, 'passwordGrant', ['username', 'password']);
  const at = new OptionPath('passwordGrant');
  assertString(options.username, at.key('username'), true);
  assertString(options.password, at.key('password'), true);
  const { username, password } = options;
  const proofs = new DpopProofs();
  const tokenEndpoint = new TokenEndpointClient({ config: o.tokenClient, proofs });
  const telemetry = createTelemetry(o.telemetry);
  const grant = { provider: undefined, tokenUrl: o.tokenUrl, grantType: 'password' };
  const request = (dpop: DpopKey | undefined) => telemetry.tokenRequest('oauth2.password_grant', grant, () => tokenEndpoint.passwordGrant(o.tokenUrl, { username, password }, o.params, dpop));
  return new GrantClient(o.target, request, { ...o, proofs, timeoutMs: o.tokenClient.timeoutMs, telemetry });
}
