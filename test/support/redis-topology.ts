// Real Redis topologies from the Debian redis-server: a 3-master + 3-replica Redis Cluster and a
// Sentinel group (1 master, 1 replica, 3 sentinels), each on free loopback ports in its own temp
// directory, torn down by stop() (and SIGKILLed at process exit if a test forgot).
// Missing binaries: with CI=true a failure, locally a skip (requireRedisTopologyOrSkip).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { redisServerPath } from './redis-server';

export interface RedisNodeProcess {
  host: string;
  port: number;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  /** true once the process exited (killed or stopped). */
  dead(): boolean;
}

export interface RedisClusterProcesses {
  /** All six nodes, masters first (as created; a failover changes roles). */
  nodes: RedisNodeProcess[];
  /** `{ host, port }` of every node, for a client's root/startup nodes. */
  rootNodes: Array<{ host: string; port: number }>;
  /** Run a redis-cli command against one node (e.g. `['CLIENT', 'PAUSE', '2000']`). */
  cli(port: number, ...args: string[]): Promise<string>;
  /** The port of the master serving `key`'s slot right now. */
  masterOf(key: string): Promise<number>;
  stop(): Promise<void>;
}

export interface RedisSentinelProcesses {
  /** The master name the sentinels monitor. */
  name: string;
  master: RedisNodeProcess;
  replica: RedisNodeProcess;
  sentinels: RedisNodeProcess[];
  sentinelNodes: Array<{ host: string; port: number }>;
  cli(port: number, ...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

/** One line of `CLUSTER NODES`. */
export interface ClusterNodeInfo {
  id: string;
  port: number;
  /** `master` or `slave`, from the flags. */
  role: 'master' | 'slave';
  /** Flags such as `myself`, `fail`, `fail?`. */
  flags: string[];
  /** For a replica: its master's id. */
  masterId?: string;
}

/** Parse `CLUSTER NODES` output (`<id> <ip:port@bus> <flags> <master> …`). */
export function parseClusterNodes(text: string): ClusterNodeInfo[] {
  return text
    .split('\n')
    .map((line) => line.trim().split(' '))
    .filter((f) => f.length >= 8)
    .map(([id, address, flags, master]) => {
      const flagList = (flags ?? '').split(',');
      return {
        id: id!,
        port: Number(/:(\d+)/.exec(address ?? '')?.[1]),
        role: flagList.includes('master') ? ('master' as const) : ('slave' as const),
        flags: flagList,
        ...(master && master !== '-' ? { masterId: master } : {}),
      };
    });
}
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function redisCliPath(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v redis-cli'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/** true when redis-server and redis-cli are installed; throws in CI when not; false (skip) locally. */
export function requireRedisTopologyOrSkip(): boolean {
  if (redisServerPath() && redisCliPath()) return true;
  if (process.env.CI === 'true') throw new Error('redis-server and redis-cli are required in CI (apt-get install -y redis-server)');
  console.warn('redis-server/redis-cli not found: skipping the Redis Cluster and Sentinel tests (apt-get install -y redis-server)');
  return false;
}

/** Free loopback ports. A cluster node also listens on port + 10000 (its bus), so that must be free too. */
async function freePorts(count: number, withBus = false): Promise<number[]> {
  const ports: number[] = [];
  const listen = (port: number) =>
    new Promise<net.Server | undefined>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(undefined));
      server.listen(port, HOST, () => resolve(server));
    });
  const close = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()));
  while (ports.length < count) {
    const first = await listen(0);
    if (!first) continue;
    const port = (first.address() as net.AddressInfo).port;
    const bus = withBus ? (port + 10000 <= 65535 ? await listen(port + 10000) : undefined) : first;
    await close(first);
    if (bus && bus !== first) await close(bus);
    if (bus && !ports.includes(port)) ports.push(port);
  }
  return ports;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, HOST);
    socket.once('error', () => resolve(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}

function cli(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(redisCliPath() ?? 'redis-cli', ['-h', HOST, '-p', String(port), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`redis-cli ${args.join(' ')} exited ${code}: ${out}`))));
  });
}

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startNode(dir: string, port: number, args: string[]): Promise<RedisNodeProcess & { stop(): Promise<void> }> {
  const child = spawn(redisServerPath() as string, args, { stdio: 'ignore', cwd: dir });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(sig);
    });
  };
  await until(`redis-server on port ${port}`, () => ping(port), 10_000);
  return { host: HOST, port, kill: () => signal('SIGKILL'), stop: () => signal('SIGTERM'), dead: () => child.exitCode !== null || child.signalCode !== null };
}

const common = (dir: string, port: number) => ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir];

/** Six redis-server in cluster mode, joined by `redis-cli --cluster create … --cluster-replicas 1`. */
export async function startRedisCluster(): Promise<RedisClusterProcesses> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'eos-redis-cluster-'));
  const ports = await freePorts(6, true);
  const nodes: Array<Awaited<ReturnType<typeof startNode>>> = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    nodes.push(
      ...(await Promise.all(
        ports.map((port) => {
          const dir = mkdtempSync(path.join(root, `${port}-`));
          return startNode(dir, port, [...common(dir, port), '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000']);
        }),
      )),
    );
    await cli(ports[0]!, '--cluster', 'create', ...ports.map((p) => `${HOST}:${p}`), '--cluster-replicas', '1', '--cluster-yes');
    for (const port of ports) {
      await until(`cluster_state:ok on ${port}`, async () => /cluster_state:ok/.test(await cli(port, 'CLUSTER', 'INFO')));
      await until(`all 6 nodes known to ${port}`, async () => /cluster_known_nodes:6/.test(await cli(port, 'CLUSTER', 'INFO')));
    }
    // Every node has the same slot map: cluster_state:ok on each does not mean they agree yet, and a
    // test that asks one node where a key lives (masterOf) then talks to that master directly.
    await until('all nodes agree about the slots', async () => /All nodes agree about slots configuration/.test(await cli(ports[0]!, '--cluster', 'check', `${HOST}:${ports[0]}`)));
    // Every replica has finished its first sync (a failover test needs data on the replica).
    for (const port of ports) {
      await until(`replication on ${port}`, async () => {
        const info = await cli(port, 'INFO', 'replication');
        return /role:master/.test(info) ? /connected_slaves:1/.test(info) : /master_link_status:up/.test(info);
      });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    nodes,
    rootNodes: nodes.map((n) => ({ host: n.host, port: n.port })),
    cli,
    async masterOf(key) {
      // Ask a node that is still running (a failover test kills some).
      const alive = nodes.find((n) => !n.dead())?.port ?? ports[0]!;
      const slot = Number(await cli(alive, 'CLUSTER', 'KEYSLOT', key));
      const shards = await cli(alive, '--json', 'CLUSTER', 'SLOTS').catch(() => '');
      if (shards.startsWith('[')) {
        const parsed = JSON.parse(shards) as Array<[number, number, [string, number, ...unknown[]], ...unknown[]]>;
        const hit = parsed.find(([from, to]) => slot >= from && slot <= to);
        if (hit) return Number(hit[2][1]);
      }
      throw new Error(`no master found for slot ${slot}`);
    },
    stop,
  };
}

/** One master, one replica and three sentinels (quorum 2) monitoring it as `name`; a master is down after `downAfterMs` without answers. */
export async function startRedisSentinel({ name = 'eosmaster', downAfterMs = 1000 }: { name?: string; downAfterMs?: number } = {}): Promise<RedisSentinelProcesses> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'eos-redis-sentinel-'));
  const [masterPort, replicaPort, ...sentinelPorts] = (await freePorts(5)) as [number, number, number, number, number];
  const started: Array<Awaited<ReturnType<typeof startNode>>> = [];
  const stop = async () => {
    await Promise.all(started.map((n) => n.stop()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const dirFor = (port: number) => mkdtempSync(path.join(root, `${port}-`));
    const masterDir = dirFor(masterPort);
    const master = await startNode(masterDir, masterPort, common(masterDir, masterPort));
    started.push(master);
    const replicaDir = dirFor(replicaPort);
    const replica = await startNode(replicaDir, replicaPort, [...common(replicaDir, replicaPort), '--replicaof', HOST, String(masterPort)]);
    started.push(replica);
    await until('the replica to sync', async () => /master_link_status:up/.test(await cli(replicaPort, 'INFO', 'replication')));
    const sentinels = await Promise.all(
      sentinelPorts.map((port) => {
        const dir = dirFor(port);
        // Sentinel rewrites its config file, so each one gets its own, in its own directory.
        const conf = path.join(dir, 'sentinel.conf');
        const lines = [
          `port ${port}`,
          `bind ${HOST}`,
          `dir ${dir}`,
          `sentinel monitor ${name} ${HOST} ${masterPort} 2`,
          `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
          `sentinel failover-timeout ${name} 5000`,
          `sentinel parallel-syncs ${name} 1`,
        ];
        writeFileSync(conf, `${lines.join('\n')}\n`);
        return startNode(dir, port, [conf, '--sentinel']);
      }),
    );
    started.push(...sentinels);
    for (const sentinel of sentinels) {
      await until(`sentinel ${sentinel.port} to see the other sentinels and the replica`, async () => {
        const info = await cli(sentinel.port, 'SENTINEL', 'MASTER', name);
        const field = (key: string) => Number(new RegExp(`(?:^|\\n)${key}\\n(\\d+)`).exec(info)?.[1] ?? -1);
        return field('num-other-sentinels') === 2 && field('num-slaves') === 1;
      });
    }
    return { name, master, replica, sentinels, sentinelNodes: sentinels.map((s) => ({ host: s.host, port: s.port })), cli, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
