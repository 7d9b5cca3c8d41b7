// Start app processes of the multi-process Redis tests (redis-app-worker.ts), each on a free port.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { RedisClientKind } from './redis-clients';

export interface AppWorker {
  url: string;
  child: ChildProcess;
}

export function startAppWorker(redisUrl: string, oauth: object, lockClient: RedisClientKind = 'node-redis'): Promise<AppWorker> {
  const script = path.join(__dirname, 'redis-app-worker.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify({ redisUrl, oauth, lockClient })], {
    cwd: path.join(__dirname, '../..'),
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${out}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /WORKER_READY (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: `http://127.0.0.1:${m[1]}`, child });
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`worker exited (${code}):\n${out}`)));
  });
}
