import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { guardSessionStore, oauthErrorHandler, oauthMiddleware, redisLock, type OAuthMiddlewareOptions, type RedisRefreshLock } from 'express-oauth2-session';
import { connectNodeRedis, type NodeRedisClient } from './redis-clients';

export type RedisClient = NodeRedisClient;
export const connectRedis = connectNodeRedis;

export interface RedisAppOptions {
  /** The refresh lock; default `redisLock(client)` (node-redis). */
  lock?: RedisRefreshLock;
  extraRoutes?: (app: express.Express) => void;
}

/**
 * The app a user runs with Redis: connect-redis store (guarded, so a dead Redis answers 503) and the
 * Redis refresh lock. `/me` calls the AS's userinfo through req.oauth. connect-redis 9 speaks
 * node-redis 5 only, so the store always uses `client`; the lock may use another library.
 */
export function createRedisApp(client: RedisClient, oauth: OAuthMiddlewareOptions, options: RedisAppOptions = {}) {
  const store = guardSessionStore(new RedisStore({ client, prefix: 'sess:' }), { timeoutMs: 1000 });
  const lock = options.lock ?? redisLock(client);
  const app = express();
  app.use(session({ store, secret: 'test-session-secret', resave: false, saveUninitialized: false }));
  const mw = oauthMiddleware({ ...oauth, lock, httpTimeoutMs: 2000 });
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
  options.extraRoutes?.(app);
  app.use(oauthErrorHandler());
  return { app, store, mw, lock };
}
