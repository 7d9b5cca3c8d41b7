// One app process of the multi-process tests: `node --import tsx redis-app-worker.ts <json>` with
// { redisUrl, oauth, lockClient?: 'node-redis' | 'ioredis' }. Prints `WORKER_READY <port>` once
// listening; `GET /__lock-stats` answers the lock's counters; `GET /call/:api` calls a configured
// API (`apis`) through req.oauth.api(name); exits when its stdin closes.
import http from 'node:http';
import { redisLock } from 'express-oauth2-session';
import { createRedisApp } from './redis-app';
import { connectClient, connectNodeRedis, type RedisClientKind } from './redis-clients';

async function main(): Promise<void> {
  const { redisUrl, oauth, lockClient = 'node-redis' } = JSON.parse(process.argv[2] ?? '{}') as { redisUrl: string; oauth: never; lockClient?: RedisClientKind };
  const client = await connectNodeRedis(redisUrl);
  const lockConnection = lockClient === 'node-redis' ? undefined : await connectClient(lockClient, redisUrl);
  const lock = redisLock(lockConnection?.client ?? client);
  const { app } = createRedisApp(client, oauth, {
    lock,
    extraRoutes: (a) => {
      a.get('/__lock-stats', (_req, res) => void res.json(lock.stats));
      a.get('/call/:api', async (req, res, next) => {
        try {
          const r = await req.oauth.api(String(req.params.api)).get('/items');
          res.status(r.status).json(await r.json());
        } catch (err) {
          next(err);
        }
      });
    },
  });
  const server = http.createServer(app);
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`WORKER_READY ${(server.address() as { port: number }).port}\n`);
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

void main();
