import type { Store } from 'express-session';
import { installStoreDeadlines } from './host-patches.js';

/**
 * Give the session store the deadline and 503 mapping from process start (default 5000 ms).
 * `oauthMiddleware` installs the same deadline itself, but only on the first request that
 * reaches it. Until then, a request that carries a session cookie waits in express-session's own
 * `store.get` before the middleware runs: after a restart while the store hangs (Redis down,
 * a client that queues commands offline), every returning user's request would wait forever
 * until some request without a cookie got through. Wrapping the store closes that window; it is
 * the only thing this adds (test/security/store-outages.test.ts, "after a restart").
 *
 * ```ts
 * app.use(session({ store: guardSessionStore(new RedisStore({ client }), { timeoutMs: 2000 }), ... }));
 * ```
 * Returns the same store object (its events and every other property are untouched).
 */
export function guardSessionStore<S extends Store>(store: S, options: { timeoutMs?: number } = {}): S {
  installStoreDeadlines(store, options.timeoutMs ?? 5_000);
  return store;
}
