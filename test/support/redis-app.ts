import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { guardSessionStore, oauthErrorHandler, oauthMiddleware, redisLock, type OAuthMiddlewareOptions, type RedisRefreshLock } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from './authorization-server';
import { connectNodeRedis, type NodeRedisClient } from './redis-clients';
import { startRedisServer, type RedisServer } from './redis-server';
import { REDIRECT_URI } from './test-app';

export type RedisClient = NodeRedisClient;
export const connectRedis = connectNodeRedis;

export interface RedisAppOptions {
  /** The refresh lock; default `redisLock(client)` (node-redis). */
  lock?: RedisRefreshLock;
  extraRoutes?: (app: express.Express) => void;
  /**
   * Session-store deadline (guardSessionStore). Default: the library's (5 s). Only tests that make
   * Redis hang or die shorten it; a storm test must not, or a loaded machine turns slow into 503s.
   */
  storeTimeoutMs?: number;
  /** express-session's `genid` (the topology tests put a hash tag in session ids). */
  genid?: () => string;
}

/**
 * The app a user runs with Redis: connect-redis store (guarded, so a dead Redis answers 503) and the
 * Redis refresh lock. `/me` calls the AS's userinfo through req.oauth. connect-redis 9 speaks
 * node-redis 5 only, so the store always uses `client`; the lock may use another library.
 */
export function createRedisApp(client: RedisClient | ConstructorParameters<typeof RedisStore>[0]['client'], oauth: OAuthMiddlewareOptions, options: RedisAppOptions = {}) {
  const store = guardSessionStore(new RedisStore({ client, prefix: 'sess:' }), options.storeTimeoutMs ? { timeoutMs: options.storeTimeoutMs } : {});
  const lock = options.lock ?? redisLock(client as RedisClient);
  const app = express();
  app.use(session({ store, secret: 'test-session-secret', resave: false, saveUninitialized: false, ...(options.genid ? { genid: options.genid } : {}) }));
  // The library's default deadlines (10 s for token and store calls): the tests assert that a storm
  // of requests all succeed, which a short deadline makes a matter of the machine's load.
  const mw = oauthMiddleware({ ...oauth, lock });
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

/**
 * What a Redis test file shares: one authorization server, one redis-server and one node-redis
 * client, started before all tests; every app made with `app()` has its lock closed after them.
 * Fields are set in `beforeAll`, so read them inside tests and hooks only.
 */
export interface RedisFixture {
  as: TestAuthorizationServer;
  redis: RedisServer;
  client: RedisClient;
  app(...args: Parameters<typeof createRedisApp>): ReturnType<typeof createRedisApp>;
}

export function useRedisFixture(): RedisFixture {
  const apps: ReturnType<typeof createRedisApp>[] = [];
  const fixture = {
    app(...args: Parameters<typeof createRedisApp>) {
      const made = createRedisApp(...args);
      apps.push(made);
      return made;
    },
  } as RedisFixture;
  beforeAll(async () => {
    [fixture.as, fixture.redis] = await Promise.all([startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 300 }), startRedisServer()]);
    fixture.client = await connectRedis(fixture.redis.url);
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.lock.close()));
    await fixture.client?.quit().catch(() => {});
    await fixture.redis?.stop();
    await fixture.as?.stop();
  });
  return fixture;
}
