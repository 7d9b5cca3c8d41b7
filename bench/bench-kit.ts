// Helpers shared by the bench scripts run with tsx (extras.ts, scale.ts): forked helper processes,
// free ports, a real login without a browser.
import { fork } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { authorizeWithoutBrowser } from 'express-oauth2-session/testing';

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Fork a bench process that reports { ready: { url } } over IPC. */
export function forkReady(file: string, args: object, tsx: boolean): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = fork(path.join(__dirname, file), [JSON.stringify(args)], { execArgv: tsx ? ['--import', 'tsx'] : [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const stop = () => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill())));
  return new Promise((resolve, reject) => {
    child.on('message', (m: { ready?: { url: string } }) => m.ready && resolve({ url: m.ready.url, stop }));
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}

export async function get(url: string, cookie?: string) {
  const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  await res.arrayBuffer();
  return {
    status: res.status,
    location: res.headers.get('location') ?? '',
    cookie: res.headers
      .getSetCookie()
      .find((c) => c.startsWith('connect.sid='))
      ?.split(';')[0],
  };
}

/** A real login at the provider (login and consent pages without a browser); the session cookie. */
export async function realLogin(url: string): Promise<string> {
  const start = await get(`${url}/login`);
  const { callbackUrl } = await authorizeWithoutBrowser(start.location);
  const done = await get(callbackUrl, start.cookie);
  if (done.status !== 303 || !done.cookie) throw new Error(`login failed: ${done.status}`);
  return done.cookie;
}

/** The Redis lock's counters (`GET /__lock-stats` of storm-worker.ts), summed over the workers. */
export async function sumLockStats(urls: string[]): Promise<Record<string, number>> {
  const all = await Promise.all(urls.map(async (url) => (await fetch(`${url}/__lock-stats`)).json() as Promise<Record<string, number>>));
  return Object.fromEntries(Object.keys(all[0] ?? {}).map((k) => [k, all.reduce((n, s) => n + (s[k] ?? 0), 0)]));
}
