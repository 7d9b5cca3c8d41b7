import { GrantClient, resolveBackendOptions, type BackendClientOptions } from './grant-client.js';
import { DpopProofs, type DpopKey } from '../protocol/dpop.js';
import { TokenEndpointClient } from '../protocol/token-endpoint.js';
import { createTelemetry } from '../telemetry/open-telemetry.js';

/**
 * OAuth 2.0 client credentials grant (RFC 6749 §4.4) for backend jobs that act as the app itself,
 * not as a user. The token is cached until `expires_at - refreshLeewaySeconds`; concurrent callers
 * share one token request; a 401 `invalid_token` gets a new token once and retries idempotent
 * requests. Options are validated at once by the same checks as `oauthMiddleware` (TypeError
 * ``clientCredentials: `<option>` …``, `code: 'ERR_OAUTH_CONFIG'`); a preset may be spread in:
 * `clientCredentials({ ...providers.battlenet({ region: 'eu' }), clientId, clientSecret })`.
 *
 * ```ts
 * const backend = clientCredentials({ clientId, clientSecret, tokenUrl, scope: 'reports:read', apiBaseUrl: 'https://api.example' });
 * const res = await backend.get('/reports');
 * ```
 */
export function clientCredentials(options: BackendClientOptions): GrantClient {
  const o = resolveBackendOptions(options, 'clientCredentials');
  const proofs = new DpopProofs();
  const tokenEndpoint = new TokenEndpointClient({ config: o.tokenClient, proofs });
  const telemetry = createTelemetry(o.telemetry);
  const grant = { provider: undefined, tokenUrl: o.tokenUrl, grantType: 'client_credentials' };
  const request = (dpop: DpopKey | undefined) => telemetry.tokenRequest('oauth2.client_credentials_grant', grant, () => tokenEndpoint.clientCredentialsGrant(o.tokenUrl, o.params, dpop));
  return new GrantClient(o.target, request, { ...o, proofs, timeoutMs: o.tokenClient.timeoutMs, telemetry });
}
