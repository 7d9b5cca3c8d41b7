// One app process of the Redis topology tests: `node --import tsx topology-app-worker.ts`, then one
// line of JSON on stdin, { apps: TopologyAppSpec[] } (so the process can start while Redis does). Each app (its own port) keeps sessions in connect-redis and takes the
// refresh lock through one client library on one topology (clients shared by the apps of the same
// library and topology). Prints `WORKER_READY {"<app name>": <port>, …}` once listening; exits when
// its stdin closes. Extra routes: `GET /__store-ok?key=` (a session-store read of `key`: 200 or 503),
// `GET /__lock-stats`.
import http from 'node:http';
import { redisLock, type RedisRefreshLock } from 'express-oauth2-session';
import { createRedisApp } from './redis-app';
import { connectAppClients, type AppClients } from './topology-clients';
import type { TopologyAppSpec } from './topology-workers';

function firstLine(): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString();
      if (!text.includes('\n')) return;
      process.stdin.off('data', onData);
      resolve(text.slice(0, text.indexOf('\n')));
    };
    process.stdin.on('data', onData);
  });
}

async function main(): Promise<void> {
  process.stdin.on('end', () => process.exit(0));
  const { apps } = JSON.parse(await firstLine()) as { apps: TopologyAppSpec[] };
  const clients = new Map<string, Promise<AppClients & { lockInstance: RedisRefreshLock }>>();
  const ports: Record<string, number> = {};
  for (const spec of apps) {
    const clientKey = `${spec.kind} ${JSON.stringify(spec.target)}`;
    if (!clients.has(clientKey))
      clients.set(
        clientKey,
        connectAppClients(spec.kind, spec.target).then((c) => ({ ...c, lockInstance: redisLock(c.lock) })),
      );
    const { store: storeClient, lockInstance: lock } = await clients.get(clientKey)!;
    let n = 0;
    const { app, store } = createRedisApp(storeClient, spec.oauth, {
      lock,
      ...(spec.sidTag ? { genid: () => `{${spec.sidTag}}${process.pid}-${Date.now().toString(36)}-${(n += 1)}-${Math.random().toString(36).slice(2)}` } : {}),
      extraRoutes: (a) => {
        a.get('/__lock-stats', (_req, res) => void res.json(lock.stats));
        a.get('/__store-ok', (req, res) => {
          store.get(String(req.query.key), (err) => void res.status(err ? 503 : 200).json({ ok: !err, error: err ? String((err as Error).message) : undefined }));
        });
      },
    });
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    ports[spec.name] = (server.address() as { port: number }).port;
  }
  process.stdout.write(`WORKER_READY ${JSON.stringify(ports)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`worker failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
