// The refresh lock on a real Redis Cluster or Sentinel group, with both client libraries: mutual
// exclusion on keys of every master, leases (extend, lapse), wake-ups by release message across
// processes (two clients), and the per-call deadline while the key's master is paused.
import { redisLock, SessionUnavailableError, type RedisRefreshLock } from 'express-oauth2-session';
import { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import { createClient } from 'redis';
import { REDIS_CLIENT_KINDS, type NodeRedisClient, type RedisClientKind } from './redis-clients';

export interface LockTopology {
  /** Clients of the topology, for the lock (both libraries) and for inspection. */
  connect(kind: RedisClientKind): Promise<{ client: Parameters<typeof redisLock>[0]; quit(): Promise<void> }>;
  /** Ports of every data node (masters and replicas), where subscriptions may live. */
  dataPorts(): number[];
  /** The port of the master holding `key` now. */
  masterOf(key: string): Promise<number>;
  cli(port: number, ...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300 && !(await condition()); i += 1) await sleep(10);
}

export function describeLockOn(name: string, start: () => Promise<LockTopology>): void {
  let topology: LockTopology;
  let nodes: NodeRedisClient[] = []; // one plain client per data node: subscriptions are per node
  const keys: string[] = []; // hash tags served by as many different masters as there are (up to 3)
  const quits: Array<() => Promise<void>> = [];

  /** Subscribers of `channel` on all nodes together. */
  const subscribers = async (channel: string) => (await Promise.all(nodes.map(async (n) => Number((await n.pubSubNumSub(channel))[channel] ?? 0)))).reduce((a, b) => a + b, 0);
  /** A client of the master that serves `tag`'s slot. */
  const nodeOf = async (tag: string) => nodes[topology.dataPorts().indexOf(await topology.masterOf(tag))]!;

  beforeAll(async () => {
    topology = await start();
    nodes = await Promise.all(
      topology.dataPorts().map(async (port) => {
        const c = createClient({ url: `redis://127.0.0.1:${port}` });
        c.on('error', () => {});
        return c.connect();
      }),
    );
    // Hash-tagged, so that every lock key made from one of them lives where `{kN}` does.
    const masters = new Set<number>();
    for (let i = 0; i < 100 && keys.length < 3; i += 1) {
      const master = await topology.masterOf(`{k${i}}`);
      if (!masters.has(master)) keys.push(`{k${i}}`);
      masters.add(master);
    }
    for (let i = 100; keys.length < 3; i += 1) keys.push(`{k${i}}`);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(quits.map((q) => q().catch(() => {})));
    await Promise.all(nodes.map((n) => n.quit().catch(() => {})));
    await topology?.stop();
  }, 30_000);

  it(`should keep sessions in connect-redis 9 through the node-redis client of ${name}`, async () => {
    const { client, quit } = await topology.connect('node-redis');
    quits.push(quit);
    // connect-redis types its client as createClient's or createCluster's; a createSentinel client has the same commands.
    const store = new RedisStore({ client: client as ConstructorParameters<typeof RedisStore>[0]['client'], prefix: 'sess:' });
    const call = <T>(run: (cb: (err?: unknown, value?: T) => void) => void) => new Promise<T | undefined>((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value))));
    const session = { cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) }, user: 'alice' } as unknown as SessionData;
    for (const sid of ['a', 'b', 'c', 'd']) await call((cb) => store.set(sid, session, cb));
    expect(await call<SessionData>((cb) => store.get('c', cb))).toMatchObject({ user: 'alice' });
    await call((cb) => store.destroy('c', cb));
    expect(await call<SessionData>((cb) => store.get('c', cb))).toBeFalsy();
  });

  describe.each(REDIS_CLIENT_KINDS)(`redisLock with %s on ${name}`, (kind) => {
    /** A lock in "another process": its own client of the topology. */
    async function newLock(options?: Parameters<typeof redisLock>[1]): Promise<RedisRefreshLock> {
      const { client, quit } = await topology.connect(kind);
      const lock = redisLock(client, options);
      quits.push(async () => {
        await lock.close();
        await quit();
      });
      return lock;
    }

    it('should give each key to exactly one of 30 concurrent callers in two processes, on every master (one key per command: no CROSSSLOT)', async () => {
      const [a, b] = await Promise.all([newLock(), newLock()]);
      for (const key of keys) {
        const leases = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).acquire(`${key}:${kind}`, 5000)));
        expect(leases.filter(Boolean)).toHaveLength(1);
        await leases.find(Boolean)!.release();
        expect(await (await nodeOf(key)).exists(`oauth-lock:${key}:${kind}`)).toBe(0);
      }
    });

    it('should extend a lease past its first TTL, and let a lapsed lease neither extend nor release the next holder', async () => {
      const [a, b] = await Promise.all([newLock(), newLock()]);
      const key = `${keys[0]}:${kind}:lease`;
      const node = await nodeOf(keys[0]!);
      const lease = (await a.acquire(key, 300))!;
      await sleep(200);
      expect(await lease.extend(5000)).toBe(true);
      await sleep(200);
      expect(await lease.isHeld()).toBe(true);
      expect(await b.acquire(key, 5000)).toBeUndefined();
      expect(await node.pTTL(`oauth-lock:${key}`)).toBeGreaterThan(4000);
      await lease.release();
      expect(await lease.isHeld()).toBe(false);

      const lapsed = (await a.acquire(key, 100))!;
      await sleep(200);
      expect(await lapsed.isHeld()).toBe(false);
      const next = (await b.acquire(key, 5000))!;
      expect(next).toBeDefined();
      expect(await lapsed.extend(5000)).toBe(false);
      await lapsed.release();
      expect(await next.isHeld()).toBe(true);
      await next.release();
      expect(await node.exists(`oauth-lock:${key}`)).toBe(0);
    });

    it('should wake a waiter in another process by the release message, for keys on every master', async () => {
      const [holder, waiter] = await Promise.all([newLock(), newLock({ pollIntervalMs: 60_000 })]);
      // Warm up: ioredis's Cluster re-picks its subscriber node just after connecting (its debug log:
      // "subscriber has left, selecting a new one"), and a message published during that switch is
      // lost; the lock copes (its first check then finds the key free), but this test counts messages.
      await waiter.waitForRelease(`${keys[0]}:${kind}:warm-up`, 1000);
      await sleep(200);
      for (const key of keys.map((k) => `${k}:${kind}:wake`)) {
        const lease = (await holder.acquire(key, 30_000))!;
        const waiting = waiter.waitForRelease(key, 30_000);
        await until(async () => (await subscribers(`oauth-lock:${key}`)) === 1);
        expect(await subscribers(`oauth-lock:${key}`)).toBe(1);
        await lease.release();
        await waiting;
        await until(async () => (await subscribers(`oauth-lock:${key}`)) === 0); // the last waiter unsubscribed
      }
      expect(waiter.stats).toEqual({ wokenByMessage: keys.length, wokenByFallback: 0, foundFree: 1, fallbackChecks: 0, timedOut: 0 });
    });

    it('should leave the client working after close(), and wait by polling then', async () => {
      const { client, quit } = await topology.connect(kind);
      quits.push(quit);
      const lock = redisLock(client, { pollIntervalMs: 20 });
      const key = `${keys[1]}:${kind}:close`;
      const lease = (await lock.acquire(key, 10_000))!;
      const waiting = lock.waitForRelease(key, 10_000);
      await until(async () => (await subscribers(`oauth-lock:${key}`)) === 1);
      await lock.close();
      await until(async () => (await subscribers(`oauth-lock:${key}`)) === 0);
      expect(await subscribers(`oauth-lock:${key}`)).toBe(0);
      await lease.release();
      await waiting;
      const again = (await lock.acquire(key, 10_000))!;
      const polled = lock.waitForRelease(key, 10_000);
      await until(async () => lock.stats.fallbackChecks >= 2);
      await again.release();
      await polled;
      expect(lock.stats).toMatchObject({ wokenByMessage: 0, wokenByFallback: 2 }); // close() ended the first wait's subscription too
    });

    it('should fail a lock call at its timeoutMs with a 503 while the master of the key is paused', async () => {
      const lock = await newLock();
      const key = `${keys[2]}:${kind}:paused`;
      const master = await topology.masterOf(keys[2]!);
      // 700 ms: shorter than the sentinels' down-after time and the cluster node timeout (no failover).
      await topology.cli(master, 'CLIENT', 'PAUSE', '700', 'ALL');
      const started = Date.now();
      const err = (await lock.acquire(key, 30_000, { timeoutMs: 200 }).catch((e: unknown) => e)) as SessionUnavailableError;
      const ms = Date.now() - started;
      expect(err).toBeInstanceOf(SessionUnavailableError);
      expect(err.message).toBe('The Redis refresh lock did not answer within 200 ms; try again shortly.');
      expect(ms).toBeGreaterThanOrEqual(190);
      expect(ms).toBeLessThan(500);
      // After the pause the late SET ran and took the lock; the lock gave it back.
      const node = await nodeOf(keys[2]!);
      await sleep(600);
      await until(async () => (await node.exists(`oauth-lock:${key}`)) === 0);
      expect(await node.exists(`oauth-lock:${key}`)).toBe(0);
      const lease = await lock.acquire(key, 5000, { timeoutMs: 2000 });
      expect(lease).toBeDefined();
      await lease!.release();
    });
  });
}
