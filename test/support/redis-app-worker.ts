// One app process of the multi-process tests: `node --import tsx redis-app-worker.ts <json>`.
// Prints `WORKER_READY <port>` once listening; exits when its stdin closes.
import http from 'node:http';
import { connectRedis, createRedisApp } from './redis-app';

async function main(): Promise<void> {
  const { redisUrl, oauth } = JSON.parse(process.argv[2] ?? '{}');
  const client = await connectRedis(redisUrl);
  const { app } = createRedisApp(client, oauth);
  const server = http.createServer(app);
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`WORKER_READY ${(server.address() as { port: number }).port}\n`);
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

void main();
