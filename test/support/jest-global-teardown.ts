// jest globalTeardown: stop the hosts jest-global-setup.ts started.
import { PROVIDER_HOSTS_ENV } from './provider-hosts';

export default async function globalTeardown(): Promise<void> {
  const hosts = globalThis.__eosProviderHosts ?? [];
  globalThis.__eosProviderHosts = undefined;
  delete process.env[PROVIDER_HOSTS_ENV];
  await Promise.all(hosts.map((h) => h.stop()));
}
