import type { Store } from 'express-session';
import { SessionUnavailableError } from '../errors.js';

const GUARDED = new Set(['get', 'set', 'destroy', 'touch']);

/**
 * Wrap an express-session store so a failing or hanging store answers 503 instead of a 500 or a
 * request that never ends: every get/set/destroy/touch gets a deadline, and its errors become
 * `SessionUnavailableError` (status 503), which Express's final handler and `oauthErrorHandler()`
 * render as 503. express-session itself has no deadline for store calls.
 *
 * ```ts
 * app.use(session({ store: guardSessionStore(new RedisStore({ client }), { timeoutMs: 2000 }), ... }));
 * ```
 * Events (`connect`/`disconnect`) and every other property pass through to the wrapped store.
 */
export function guardSessionStore<S extends Store>(store: S, options: { timeoutMs?: number } = {}): S {
  const timeoutMs = options.timeoutMs ?? 5_000;
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || !GUARDED.has(prop) || typeof value !== 'function') return value;
      return function guarded(this: unknown, ...args: unknown[]) {
        const cb = typeof args[args.length - 1] === 'function' ? (args.pop() as (err?: unknown, v?: unknown) => void) : undefined;
        let done = false;
        const finish = (err?: unknown, result?: unknown) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          cb?.(err ? (err instanceof SessionUnavailableError ? err : new SessionUnavailableError(undefined, err)) : undefined, result);
        };
        const timer = setTimeout(() => finish(new SessionUnavailableError(`The session store did not answer ${prop}() within ${timeoutMs} ms.`)), timeoutMs);
        try {
          const out = (value as (...a: unknown[]) => unknown).call(target, ...args, finish);
          if (out && typeof (out as Promise<unknown>).then === 'function') (out as Promise<unknown>).catch((err: unknown) => finish(err));
        } catch (err) {
          finish(err);
        }
      };
    },
  });
}
