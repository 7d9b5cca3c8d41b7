// `npm start`: the example app. With no environment it runs everything locally: an OpenID Connect
// provider (any user name logs in), a protected API and the app. See .env.example for switching to
// a real provider (OAUTH_PROVIDER=github|google|battlenet|stackexchange|entra|oidc), to the form_post
// response mode (OAUTH_RESPONSE_MODE=form_post) and to Redis (REDIS_URL).
// OTEL_CONSOLE=1 prints the package's OpenTelemetry spans (example-app/telemetry.ts).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { guardSessionStore, redisLock } from 'express-oauth2-session';
import { startTestProvider } from 'express-oauth2-session/testing';
import { startAudienceApi, startExampleApi } from './api';
import { createApp, type ExampleAppOptions } from './app';
import { realProviderFromEnv, responseModeFromEnv } from './config-from-env';
import { printSpansToConsole } from './telemetry';

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

async function main(): Promise<void> {
  const env = process.env;
  if (env.OTEL_CONSOLE) printSpansToConsole();
  const server = http.createServer();
  // Bind first: the embedded provider must know the redirect URI (and so the port) up front.
  const wanted = Number(env.PORT ?? 3000);
  const port = await listen(server, wanted).catch(() => listen(server, 0));
  const appUrl = env.APP_URL ?? `http://127.0.0.1:${port}`;
  const stops: Array<() => Promise<void>> = [];

  let setup: Pick<ExampleAppOptions, 'oauth' | 'profileApiUrl' | 'userinfoUrl'>;
  const real = realProviderFromEnv(env, appUrl);
  if (real) {
    setup = real;
  } else {
    // Short token lifetime so you can watch refreshes happen on the token status page. Two more
    // APIs (orders, billing) each take only tokens for their own resource (RFC 8707): /apis.
    const resources = { orders: 'https://orders.example.test/', billing: 'https://billing.example.test/' };
    const resourceServers = Object.fromEntries(Object.entries(resources).map(([name, resource]) => [resource, { scope: `${name}:read`, accessTokenFormat: 'jwt' as const }]));
    const provider = await startTestProvider({ redirectUris: [`${appUrl}/callback`], accessTokenTTL: 30, resourceServers });
    const api = await startExampleApi({ introspectionUrl: provider.endpoints.introspection, clientId: 'svc', clientSecret: 'svc-secret' });
    const orders = await startAudienceApi({ name: 'orders', issuer: provider.issuer, resource: resources.orders });
    const billing = await startAudienceApi({ name: 'billing', issuer: provider.issuer, resource: resources.billing });
    stops.push(provider.stop, api.stop, orders.stop, billing.stop);
    const apis = {
      orders: { url: `${orders.url}/api`, resource: resources.orders, scope: 'orders:read' },
      billing: { url: `${billing.url}/api`, resource: resources.billing, scope: 'billing:read' },
    };
    // idpLogout: logging out also ends the provider's session (its confirmation page), then comes back here.
    const oauth = { ...provider.providerOptions({ apiBaseUrl: api.url, allowedOrigins: [api.url, provider.issuer], refreshLeewaySeconds: 10 }), idpLogout: true, apis };
    setup = { oauth, profileApiUrl: '/api/quote', userinfoUrl: provider.endpoints.userinfo };
    console.log(`Embedded OpenID Connect provider at ${provider.issuer} (any user name and password log in)`);
  }

  setup = { ...setup, oauth: { ...setup.oauth, ...responseModeFromEnv(env) } as ExampleAppOptions['oauth'] };

  let store: ExampleAppOptions['store'];
  let lock: ExampleAppOptions['lock'];
  if (env.REDIS_URL) {
    const client = createClient({ url: env.REDIS_URL, disableOfflineQueue: true });
    client.on('error', (err: Error) => console.error(`redis: ${err.message}`));
    await client.connect();
    store = guardSessionStore(new RedisStore({ client, prefix: 'example:' }), { timeoutMs: 2000 });
    const redisRefreshLock = redisLock(client);
    lock = redisRefreshLock;
    stops.push(async () => {
      await redisRefreshLock.close(); // its subscriber connection, then the client
      await client.quit();
    });
    console.log('Sessions and the refresh lock are in Redis');
  }

  const sessionSecret = env.SESSION_SECRET ?? randomBytes(32).toString('hex');
  const { app } = createApp({ ...setup, store, lock, sessionSecret, secureCookie: appUrl.startsWith('https:') });
  server.on('request', app);
  console.log(`Open ${appUrl}`);

  const shutdown = () => {
    server.close();
    server.closeAllConnections();
    void Promise.allSettled(stops.map((stop) => stop())).then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
