import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { createClient } from 'redis';
import { guardSessionStore, oauthErrorHandler, oauthMiddleware, redisLock, type OAuthMiddlewareOptions } from 'express-oauth2-session';

export type RedisClient = ReturnType<typeof createClient>;

/** A node-redis client that fails fast while Redis is down instead of queueing forever. */
export async function connectRedis(url: string): Promise<RedisClient> {
  const client = createClient({ url, disableOfflineQueue: true, socket: { reconnectStrategy: () => 50, connectTimeout: 1000 } });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/**
 * The app a user runs with Redis: connect-redis store (guarded, so a dead Redis answers 503) and the
 * Redis refresh lock. `/me` calls the AS's userinfo through req.oauth.
 */
export function createRedisApp(client: RedisClient, oauth: OAuthMiddlewareOptions, extraRoutes?: (app: express.Express) => void) {
  const store = guardSessionStore(new RedisStore({ client, prefix: 'sess:' }), { timeoutMs: 1000 });
  const app = express();
  app.use(session({ store, secret: 'test-session-secret', resave: false, saveUninitialized: false }));
  const mw = oauthMiddleware({ ...oauth, lock: redisLock(client), httpTimeoutMs: 2000 });
  app.use(mw);
  app.get('/me', async (req, res, next) => {
    try {
      const r = await req.oauth.get('/me');
      res.status(r.status).json(await r.json());
    } catch (err) {
      next(err);
    }
  });
  app.get('/sid', (req, res) => {
    res.json({ sid: req.sessionID, authenticated: req.oauth.isAuthenticated() });
  });
  extraRoutes?.(app);
  app.use(oauthErrorHandler());
  return { app, store, mw };
}
