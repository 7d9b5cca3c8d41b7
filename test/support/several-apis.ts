// Shared setup of the "several APIs" tests: three audience-checking APIs (orders, billing,
// partner), a test provider with a resource server for each (JWT access tokens, so each API checks
// `aud` itself, unless `opaqueApis`), and the `apis` option that names them.
import type { Store } from 'express-session';
import { startAuthorizationServer, type TestAuthorizationServer } from './authorization-server';
import { startAudienceServer, type AudienceServer } from './audience-server';

export const API_NAMES = ['orders', 'billing', 'partner'] as const;
export type ApiName = (typeof API_NAMES)[number];

export interface SeveralApis {
  as: TestAuthorizationServer;
  servers: Record<ApiName, AudienceServer>;
  /** The `apis` option: each API's url, resource and scope (`<name>:read`). */
  apis: Record<ApiName, { url: string; resource: string; scope: string }>;
  stop(): Promise<void>;
}

export interface SeveralApisOptions {
  /** The login's access token lifetime (s). Default 300. */
  accessTokenTTL?: number;
  /** Each API token's lifetime (s). Default 300. */
  apiTokenTTL?: number;
  tokenExchange?: boolean;
  redirectUris?: string[];
  /** APIs whose tokens are opaque (the provider can revoke and introspect them; their server cannot verify them). */
  opaqueApis?: readonly ApiName[];
  /** Clients beyond the test provider's defaults (oidc-provider metadata). */
  extraClients?: object[];
}

export async function startSeveralApis(options: SeveralApisOptions = {}): Promise<SeveralApis> {
  const resourceServers: Record<string, object> = {};
  // Resources are fixed names (not the servers' URLs), so the provider can start first.
  const resources = Object.fromEntries(API_NAMES.map((n) => [n, `https://${n}.api.test/`])) as Record<ApiName, string>;
  for (const name of API_NAMES) {
    const accessTokenFormat = options.opaqueApis?.includes(name) ? 'opaque' : 'jwt';
    resourceServers[resources[name]] = { scope: `${name}:read`, accessTokenFormat, accessTokenTTL: options.apiTokenTTL ?? 300 };
  }
  const as = await startAuthorizationServer({
    ...(options.redirectUris ? { redirectUris: options.redirectUris } : {}),
    ...(options.extraClients ? { extraClients: options.extraClients } : {}),
    accessTokenTTL: options.accessTokenTTL ?? 300,
    resourceServers: resourceServers as never,
    tokenExchange: options.tokenExchange ?? false,
  });
  const servers = {} as Record<ApiName, AudienceServer>;
  for (const name of API_NAMES) servers[name] = await startAudienceServer({ issuer: as.issuer, resource: () => resources[name] });
  const apis = Object.fromEntries(API_NAMES.map((n) => [n, { url: `${servers[n].url}/${n}`, resource: resources[n], scope: `${n}:read` }])) as SeveralApis['apis'];
  return {
    as,
    servers,
    apis,
    async stop() {
      await Promise.all(API_NAMES.map((n) => servers[n].stop()));
      await as.stop();
    },
  };
}

/** The payload of a JWT, unverified (tests compare `aud` of tokens the APIs received). */
export function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** The bearer token of a recorded Authorization header. */
export function bearerOf(header: string): string {
  return header.replace(/^(Bearer|DPoP) /i, '');
}

/** Expire every per-API token in a session's token record (MemoryStore or any store), bumping its version. */
export async function expireApiTokens(store: Store, sessionId: string, provider = 'default'): Promise<void> {
  const key = `${sessionId}:oauth:${provider}`;
  const stored = await new Promise<{ t?: { v: number; p?: Record<string, { e?: number }> } } | null | undefined>((resolve, reject) =>
    store.get(key, (err, value) => (err ? reject(err) : resolve(value as never))),
  );
  if (!stored?.t?.p) throw new Error('no per-API tokens in the record');
  for (const token of Object.values(stored.t.p)) token.e = Date.now() - 1000;
  stored.t.v += 1;
  await new Promise<void>((resolve, reject) => store.set(key, stored as never, (err) => (err ? reject(err) : resolve())));
}
