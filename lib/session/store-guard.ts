import type { Store } from 'express-session';
import { installStoreDeadlines } from './host-patches.js';

/**
 * Optional since 0.2: `oauthMiddleware` gives the store a deadline (`httpTimeoutMs`) and maps its
 * failures, synchronous throws included, to 503 by itself, from the first request it sees.
 * Wrapping the store here only adds that from process start, so requests that reach
 * express-session before any request reached the middleware are covered too.
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
