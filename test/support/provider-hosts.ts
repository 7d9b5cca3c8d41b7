// One provider host process (test/support/provider-host.mjs) per jest worker, started by jest's
// globalSetup before any worker exists and stopped by its globalTeardown. Workers find theirs through
// PROVIDER_HOSTS_ENV (a JSON array of control URLs, indexed by JEST_WORKER_ID - 1).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const PROVIDER_HOSTS_ENV = 'EOS_TEST_PROVIDER_HOSTS';
const READY_MARKER = 'PROVIDER_HOST_READY';
const START_TIMEOUT_MS = 30_000;

export interface ProviderHost {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export function startProviderHost(): Promise<ProviderHost> {
  const script = path.join(__dirname, 'provider-host.mjs');
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  let log = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stderr.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-20_000);
  });
  // A host that dies while tests run takes its worker's providers with it: say why.
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') process.stderr.write(`test provider host ${child.pid} exited (${code ?? signal})\n${log}\n`);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`test provider host did not start within ${START_TIMEOUT_MS} ms\n${log}`));
    }, START_TIMEOUT_MS);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const ready = new RegExp(`^${READY_MARKER} (\\S+)$`, 'm').exec(out);
      if (!ready) return;
      clearTimeout(timer);
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      resolve({
        url: ready[1] as string,
        child,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`test provider host exited early\n${log}`));
    });
  });
}

/** This worker's host, or undefined outside the jest run that started them (then each file spawns its own provider). */
export function providerHostUrl(): string | undefined {
  const raw = process.env[PROVIDER_HOSTS_ENV];
  if (!raw) return undefined;
  const hosts = JSON.parse(raw) as string[];
  if (hosts.length === 0) return undefined;
  const worker = Number(process.env.JEST_WORKER_ID ?? '1');
  return hosts[(Math.max(worker, 1) - 1) % hosts.length];
}
