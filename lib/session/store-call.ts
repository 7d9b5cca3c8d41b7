import type { Store } from 'express-session';
import { SessionUnavailableError } from '../errors.js';

type Callback<T> = (err?: unknown, value?: T) => void;

/**
 * One callback-style store call with the deadline: a store that fails, throws synchronously,
 * returns a rejected promise or does not answer within `timeoutMs` ends as a
 * `SessionUnavailableError` (503); `done` is called exactly once, and a late answer is ignored.
 * A Node timer per call and no promise: this runs twice on every request (see installStoreDeadlines).
 */
function callWithDeadline<T>(timeoutMs: number, what: string, run: (cb: Callback<T>) => unknown, done: Callback<T>): void {
  let settled = false;
  const finish: Callback<T> = (err, value) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    if (err) done(err instanceof SessionUnavailableError ? err : new SessionUnavailableError(`The session store failed to ${what}.`, err));
    else done(undefined, value);
  };
  const timer = setTimeout(() => finish(new SessionUnavailableError(`The session store did not ${what} within ${timeoutMs} ms.`)), timeoutMs);
  try {
    const out = run(finish);
    if (out && typeof (out as Promise<unknown>).then === 'function') (out as Promise<unknown>).then(undefined, (err: unknown) => finish(err ?? new Error('rejected')));
  } catch (err) {
    finish(err);
  }
}

/**
 * The one way this package calls a session store (or a `req.session` method that calls it): a
 * callback API turned into a promise with the deadline of `callWithDeadline`.
 */
export function storeCall<T = void>(timeoutMs: number, what: string, run: (cb: Callback<T>) => unknown): Promise<T | undefined> {
  return new Promise((resolve, reject) => callWithDeadline(timeoutMs, what, run, (err, value) => (err ? reject(err) : resolve(value))));
}

const GUARDED_METHODS = { get: 'read the session', set: 'save the session', destroy: 'delete the session', touch: 'extend the session' } as const;
const DEADLINES = Symbol.for('express-oauth2-session.storeDeadlines');

/** A method of an in-process `MemoryStore` itself (express-session's; matched by class name), neither overridden by a subclass nor replaced on the instance. */
function isInProcessMethod(store: Store, name: string): boolean {
  const proto = Object.getPrototypeOf(store) as { constructor?: { name?: string } } & Record<string, unknown>;
  return proto?.constructor?.name === 'MemoryStore' && Object.prototype.hasOwnProperty.call(proto, name) && (store as unknown as Record<string, unknown>)[name] === proto[name];
}

/**
 * Give the store's own get/set/destroy/touch the same deadline and 503 mapping, so the calls
 * express-session makes at the start and end of each request cannot hang or crash a request
 * either. Installed once per store instance (own properties that shadow the class methods); the
 * store object keeps its identity, events and every other property.
 *
 * Each call gets its own Node timer (`callWithDeadline`): Node's timer lists make a timer cheap to
 * set and clear, while keeping pending calls in a shared collection swept on an interval (tried)
 * cost ~10 % of a logged-in request's CPU in the paired bench (bench/RESULTS.md). Methods of an
 * in-process `MemoryStore` (express-session's, not overridden) are left as they are: a map in this
 * process answers on the next tick and cannot hang or fail.
 */
export function installStoreDeadlines(store: Store, timeoutMs: number): void {
  const target = store as Store & { [DEADLINES]?: true } & Record<string, unknown>;
  if (target[DEADLINES]) return;
  Object.defineProperty(target, DEADLINES, { value: true });
  for (const [name, what] of Object.entries(GUARDED_METHODS)) {
    const original = target[name];
    if (typeof original !== 'function' || isInProcessMethod(store, name)) continue;
    target[name] = function withDeadline(this: unknown, ...args: unknown[]) {
      const cb = typeof args[args.length - 1] === 'function' ? (args.pop() as Callback<unknown>) : undefined;
      callWithDeadline(
        timeoutMs,
        what,
        (finish) => (original as (...a: unknown[]) => unknown).call(store, ...args, finish),
        (err, value) => cb?.(err, value),
      );
    };
  }
}
