// Process plumbing shared by the bench scripts that measure running servers (run.mjs, profile.mjs):
// the bench's peers, the built package, pinned child processes, the embedded provider, the load generator.
import { execFileSync, fork, spawn } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..');

/** The peers are bench/'s own dependencies, at the exact versions of bench/package-lock.json. */
export function ensurePeers() {
  const wanted = JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8')).dependencies;
  const installed = (name) => {
    const file = path.join(here, 'node_modules', name, 'package.json');
    return existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).version;
  };
  if (Object.entries(wanted).some(([name, version]) => installed(name) !== version)) execFileSync('npm', ['--prefix', here, 'ci', '--no-audit', '--no-fund'], { stdio: 'inherit' });
}

/**
 * The servers under test load express-oauth2-session from its built dist/ (tsc output, what npm
 * installs), not from lib/ through tsx: tsx compiles with esbuild's keepNames, which wraps every
 * closure made per request in a `__name(...)` call. bench/ resolves the package by name through a
 * link in bench/node_modules, and tsx runs the bench's own .ts files with a tsconfig without the
 * `paths` that point the name at lib/.
 */
export function useBuiltPackage() {
  execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const link = path.join(here, 'node_modules', 'express-oauth2-session');
  if (!existsSync(link)) symlinkSync(path.join('..', '..'), link, 'dir');
}
export const builtPackageEnv = { ...process.env, TSX_TSCONFIG_PATH: path.join(here, 'tsconfig.dist.json') };

export const children = [];
process.on('exit', () => children.forEach((c) => c.kill()));

// Pin the server under test to core 0 and the load generator (and the API it calls) to core 1
// where taskset exists: on 2 cores this removes most of the interference between them.
export const taskset = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return true;
  } catch {
    return false;
  }
})();
export function pin(pid, core) {
  if (taskset) execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
}

export function start(file, args, { tsx = true, core, execArgv = [] }) {
  const child = fork(path.join(here, file), args, { cwd: root, env: builtPackageEnv, execArgv: [...execArgv, ...(tsx ? ['--import', 'tsx'] : [])], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.on('message', (m) => {
      if (!m.ready) return;
      pin(child.pid, core);
      resolve({ child, ready: m.ready });
    });
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}

export function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The embedded test provider (oidc-provider) in its own process, with the variants' redirect URIs. */
/** The resource server of group 6 (a configured API with its own token, RFC 8707). */
export const BENCH_RESOURCE_SERVERS = { 'https://orders.bench.test/': { scope: 'orders:read', accessTokenTTL: 3600 } };

export function startProvider(redirectUris) {
  const child = spawn(
    process.execPath,
    [path.join(root, 'lib/testing/provider-cli.mjs'), '--options', JSON.stringify({ redirectUris, accessTokenTTL: 3600, logErrors: false, resourceServers: BENCH_RESOURCE_SERVERS })],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  children.push(child);
  return new Promise((resolve) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('OAUTH_TEST_PROVIDER_READY '));
      if (line) resolve(JSON.parse(line.slice('OAUTH_TEST_PROVIDER_READY '.length)));
    });
  });
}

/** One autocannon run in its own process (pinned to core 1 where taskset exists): { requests, non2xx, errors, seconds, p99 }. */
export function load(url, cookie, seconds, connections) {
  return new Promise((resolve, reject) => {
    const args = [path.join(here, 'load.mjs'), JSON.stringify({ url, cookie, seconds, connections })];
    const command = taskset ? ['taskset', ['-c', '1', process.execPath, ...args]] : [process.execPath, args];
    const p = spawn(...command, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load generator exited ${code}`))));
  });
}
