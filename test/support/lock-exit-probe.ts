// `node --import tsx lock-exit-probe.ts <node-redis|ioredis> <redisUrl>`: a process whose lock opened
// its subscriber connection (one wait woken by a release), then quits its own client WITHOUT
// calling lock.close(). It must exit by itself: the subscriber connection is unref'd.
import { redisLock } from 'express-oauth2-session';
import { connectClient, type RedisClientKind } from './redis-clients';

async function main(): Promise<void> {
  const [kind, url] = process.argv.slice(2) as [RedisClientKind, string];
  const connected = await connectClient(kind, url);
  const lock = redisLock(connected.client, { pollIntervalMs: 60_000 });
  const lease = await lock.acquire('exit-probe', 10_000);
  const waiting = lock.waitForRelease('exit-probe', 10_000);
  setTimeout(() => void lease?.release(), 100);
  await waiting;
  process.stdout.write(`${JSON.stringify(lock.stats)}\n`);
  await connected.quit();
}

void main();
