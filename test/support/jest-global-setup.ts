// jest globalSetup: one test authorization-server host per worker (see provider-hosts.ts). Runs once
// per jest run (the three projects name the same file), before the workers are forked, so they
// inherit PROVIDER_HOSTS_ENV.
import { PROVIDER_HOSTS_ENV, startProviderHost, type ProviderHost } from './provider-hosts';

declare global {
  var __eosProviderHosts: ProviderHost[] | undefined;
}

export default async function globalSetup(globalConfig: { maxWorkers: number }): Promise<void> {
  const count = Math.max(1, globalConfig.maxWorkers);
  const hosts = await Promise.all(Array.from({ length: count }, () => startProviderHost()));
  globalThis.__eosProviderHosts = hosts;
  process.env[PROVIDER_HOSTS_ENV] = JSON.stringify(hosts.map((h) => h.url));
}
