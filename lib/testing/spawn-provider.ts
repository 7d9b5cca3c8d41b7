import { spawn } from 'node:child_process';
import path from 'node:path';

const READY_MARKER = 'OAUTH_TEST_PROVIDER_READY';

export interface ProviderEndpoints {
  authorization: string;
  token: string;
  userinfo: string;
  revocation: string;
  introspection: string;
  jwks: string;
  discovery: string;
  endSession: string;
  /** RFC 9126 pushed authorization request endpoint. */
  pushedAuthorizationRequest: string;
  /** With the `mtls` option: the TLS listener's origin and discovery's `mtls_endpoint_aliases`. */
  mtls?: { origin: string; token_endpoint: string; revocation_endpoint: string; userinfo_endpoint: string; pushed_authorization_request_endpoint: string; introspection_endpoint: string };
}

export interface SpawnedProvider {
  issuer: string;
  port: number;
  pid: number;
  endpoints: ProviderEndpoints;
  clients: Array<{ id: string; secret?: string; method?: string; grants?: string[] }>;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Run oidc-provider (ESM-only) in a child process: jest's CommonJS runtime cannot import it, a child
 * process works everywhere. The child exits when this process's stdin pipe to it closes.
 */
export function spawnProvider(options: object, timeoutMs = 20_000): Promise<SpawnedProvider> {
  const cli = path.join(__dirname, 'provider-cli.mjs');
  const child = spawn(process.execPath, [cli, '--exit-on-stdin-close', '--options', JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let log = '';
  let buffered = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`oidc-provider did not start within ${timeoutMs} ms\n${log}`));
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      log += text;
      buffered += text;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.startsWith(`${READY_MARKER} `)) continue;
        clearTimeout(timer);
        const info = JSON.parse(line.slice(READY_MARKER.length + 1)) as Omit<SpawnedProvider, 'pid' | 'output' | 'stop'>;
        resolve({
          ...info,
          pid: child.pid as number,
          output: () => log,
          async stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
            child.stdin.destroy();
          },
        });
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`oidc-provider exited early\n${log}`));
    });
  });
}
