// App processes for the Redis topology tests (test/support/topology-app-worker.ts): spawned first
// (loading the code takes seconds), told their apps once Redis is up, and always ended: stop(), and
// SIGKILL at the jest worker's exit if a test forgot.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { OAuthMiddlewareOptions } from 'express-oauth2-session';
import type { RedisClientKind } from './redis-clients';
import type { RedisTarget } from './topology-clients';

export interface TopologyAppSpec {
  /** The app's name in `urls`. */
  name: string;
  kind: RedisClientKind;
  target: RedisTarget;
  oauth: OAuthMiddlewareOptions;
  /** Session ids start with `{sidTag}`: every key of the session (its tokens, its lock) in one slot. */
  sidTag?: string;
}

export interface TopologyWorker {
  pid: number;
  /** Base URL of each app, by name. */
  urls: Record<string, string>;
  stop(): Promise<void>;
}

export interface SpawnedWorker {
  /** Start the apps; resolves once they listen. */
  configure(apps: TopologyAppSpec[]): Promise<TopologyWorker>;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export function spawnTopologyWorker(): SpawnedWorker {
  const script = path.join(__dirname, 'topology-app-worker.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: path.join(__dirname, '../..'),
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
  };
  return {
    stop,
    configure(apps) {
      child.stdin.write(`${JSON.stringify({ apps })}\n`);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`topology worker did not start:\n${out}`));
        }, 30_000);
        const check = () => {
          const m = /WORKER_READY (\{.*\})/.exec(out);
          if (!m) return;
          clearTimeout(timer);
          child.stdout.off('data', check);
          const ports = JSON.parse(m[1]!) as Record<string, number>;
          resolve({ pid: child.pid!, urls: Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, `http://127.0.0.1:${port}`])), stop });
        };
        child.stdout.on('data', check);
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`topology worker exited (${child.exitCode ?? child.signalCode}):\n${out}`));
        });
        check();
      });
    },
  };
}
