// Internal: what `startTestProvider` builds around a running provider (not a public entry point).
import type { TokenEndpointAuthMethod } from '../config/options.js';
import type { ProviderRequest, TestProvider, TestProviderOptions, TokenEndpointFault } from './index.js';
import type { SpawnedProvider } from './spawn-provider.js';

/** Registered methods `providerOptions()` passes on (Basic is the default; private_key_jwt also needs `clientAssertionKey`). */
const BODY_AUTH_METHODS = new Set(['client_secret_post', 'client_secret_jwt', 'private_key_jwt']);

export const DEFAULT_TEST_REDIRECT_URI = 'http://127.0.0.1:3000/callback';

/**
 * The `TestProvider` API over a provider that `start` runs (`spawnProvider`: a child process per
 * provider; the project's own jest setup passes a starter that asks a long-lived per-worker process).
 */
export async function startTestProviderWith(start: (options: object) => Promise<SpawnedProvider>, options: TestProviderOptions = {}): Promise<TestProvider> {
  const { logErrors = false, ...rest } = options;
  const redirectUris = options.redirectUris ?? [DEFAULT_TEST_REDIRECT_URI];
  const as = await start({ ...rest, redirectUris, logErrors });
  const harness = (path: string, init?: RequestInit) => fetch(`${as.issuer}/__harness/${path}`, init);
  const requests = async () => (await (await harness('requests')).json()) as ProviderRequest[];
  const failNext = async (fault: TokenEndpointFault = {}) => {
    const res = await harness('fail-next', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fault) });
    if (!res.ok) throw new Error(`failNext rejected: ${await res.text()}`);
  };
  return {
    issuer: as.issuer,
    endpoints: as.endpoints,
    clients: as.clients,
    requests,
    async tokenRequests(grantType) {
      return (await requests()).filter((r) => r.endpoint === '/token' && (grantType === undefined || r.grantType === grantType));
    },
    async clearRequests() {
      await harness('requests', { method: 'DELETE' });
    },
    failNext,
    failNextTokenRequest: (fault = {}) => failNext({ ...fault, path: '/token' }),
    providerOptions(overrides = {}) {
      const clientId = overrides.clientId ?? 'rp-basic';
      const client = as.clients.find((c) => c.id === clientId);
      return {
        clientId,
        ...(client?.secret ? { clientSecret: client.secret } : {}),
        ...(client?.method && BODY_AUTH_METHODS.has(client.method) ? { tokenEndpointAuthMethod: client.method as TokenEndpointAuthMethod } : {}),
        issuer: as.issuer,
        authorizationUrl: as.endpoints.authorization,
        tokenUrl: as.endpoints.token,
        jwksUri: as.endpoints.jwks,
        revocationUrl: as.endpoints.revocation,
        endSessionUrl: as.endpoints.endSession,
        redirectUri: redirectUris[0] as string,
        scope: ['openid', 'profile', 'email'],
        apiBaseUrl: as.issuer,
        ...overrides,
      };
    },
    async introspect(token) {
      const res = await fetch(as.endpoints.introspection, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('svc:svc-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }),
      });
      return ((await res.json()) as { active?: boolean }).active === true;
    },
    stop: () => as.stop(),
    output: () => as.output(),
  };
}
