// The real authorization server (oidc-provider 9, ESM-only) in a child process, so CommonJS jest
// can use it. One per test file: start in beforeAll, stop in afterAll.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { spawnProvider } = require('./spawn.cjs') as { spawnProvider: (o: object, s?: object) => Promise<SpawnedInfo> };

interface SpawnedInfo {
  issuer: string;
  port: number;
  endpoints: Endpoints;
  stop(): Promise<void>;
  output(): string;
}

export interface Endpoints {
  authorization: string;
  token: string;
  userinfo: string;
  revocation: string;
  introspection: string;
  jwks: string;
  discovery: string;
  endSession: string;
}

export interface AsRequest {
  endpoint: string;
  clientId?: string;
  authMethod: string;
  grantType?: string;
  status?: number;
  error?: string;
}

export interface TestAuthorizationServer {
  issuer: string;
  endpoints: Endpoints;
  /** Every client-authenticated call (token, revocation, introspection) so far. */
  requests(): Promise<AsRequest[]>;
  /** Token-endpoint calls only, optionally of one grant type. */
  tokenRequests(grantType?: string): Promise<AsRequest[]>;
  clearRequests(): Promise<void>;
  /** Answer the next matching request(s) with a canned response. */
  failNext(fault: { path?: string; status?: number; body?: unknown; count?: number }): Promise<void>;
  stop(): Promise<void>;
  output(): string;
}

export interface StartOptions {
  redirectUris?: string[];
  accessTokenTTL?: number;
  refreshTokenTTL?: number;
  rotateRefreshTokens?: boolean | Record<string, boolean>;
  extraClients?: object[];
  clients?: object[];
  requirePkce?: boolean;
}

export async function startAuthorizationServer(options: StartOptions = {}): Promise<TestAuthorizationServer> {
  const as = await spawnProvider({ logErrors: false, ...options });
  const harness = (path: string, init?: RequestInit) => fetch(`${as.issuer}/__harness/${path}`, init);
  const requests = async () => (await (await harness('requests')).json()) as AsRequest[];
  return {
    issuer: as.issuer,
    endpoints: as.endpoints,
    requests,
    async tokenRequests(grantType?: string) {
      return (await requests()).filter((r) => r.endpoint === '/token' && (grantType === undefined || r.grantType === grantType));
    },
    async clearRequests() {
      await harness('requests', { method: 'DELETE' });
    },
    async failNext(fault) {
      const res = await harness('fail-next', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fault) });
      if (!res.ok) throw new Error(`fail-next rejected: ${await res.text()}`);
    },
    stop: () => as.stop(),
    output: () => as.output(),
  };
}
