// One app process of the refresh storms: `node --import tsx bench/storm-worker.ts <json>`, forked.
// MemoryStore, or connect-redis + redisLock when given a Redis URL (then several workers share
// sessions). `GET /api` makes one `req.oauth.get` to the local API; `POST /__expire` makes this
// session's access token expired; `GET /__lock-stats` answers the Redis lock's counters. `lockClient`
// picks the library of the lock's client (the store always uses node-redis: connect-redis 9 needs it).
// Sends { ready: { url } } over IPC once listening.
import http from 'node:http';
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { oauthMiddleware, redisLock, requireAuth, type OAuthMiddlewareOptions } from 'express-oauth2-session';
import { expireAccessToken } from 'express-oauth2-session/testing';
import { pollingLock } from './polling-lock';
import { connectClient, connectNodeRedis, type RedisClientKind } from '../test/support/redis-clients';

interface WorkerOptions {
  oauth: OAuthMiddlewareOptions;
  redisUrl?: string;
  /** `polling`: the lock before pub/sub wakeups (bench/polling-lock.ts), on node-redis. */
  lockClient?: RedisClientKind | 'polling';
  port?: number;
}

async function main(): Promise<void> {
  const { oauth, redisUrl, lockClient = 'node-redis', port = 0 } = JSON.parse(process.argv[2] ?? '{}') as WorkerOptions;
  const client = redisUrl ? await connectNodeRedis(redisUrl) : undefined;
  const lockClientOf = async (kind: RedisClientKind) => (kind === 'node-redis' ? client! : (await connectClient(kind, redisUrl!)).client);
  const lock = !redisUrl ? undefined : lockClient === 'polling' ? pollingLock(client) : redisLock(await lockClientOf(lockClient));
  const store = client ? new RedisStore({ client, prefix: 'sess:' }) : new session.MemoryStore();
  const app = express();
  app.use(session({ store, secret: 'bench-session-secret', resave: false, saveUninitialized: false }));
  app.use(oauthMiddleware({ ...oauth, ...(lock ? { lock } : {}) }));
  app.get('/__lock-stats', (_req, res) => void res.json((lock && 'stats' in lock && lock.stats) || {}));
  app.get('/api', requireAuth(), async function callApi(req, res, next) {
    try {
      const r = await req.oauth.get('/data');
      res.status(r.status).json(await r.json());
    } catch (err) {
      next(err);
    }
  });
  app.post('/__expire', function expire(req, res, next) {
    expireAccessToken(store, req.sessionID).then(() => res.json({ ok: true }), next);
  });
  const server = http.createServer(app);
  server.listen(port, '127.0.0.1', () => process.send?.({ ready: { url: `http://127.0.0.1:${(server.address() as { port: number }).port}` } }));
}

process.on('disconnect', () => process.exit(0));
void main();
