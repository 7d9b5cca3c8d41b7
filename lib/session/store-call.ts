import type { Store } from 'express-session';
import { SessionUnavailableError } from '../errors.js';

type Callback<T> = (err?: unknown, value?: T) => void;

/**
 * The one way this package calls a session store (or a `req.session` method that calls it): a
 * callback API turned into a promise with a deadline. A store that fails, throws synchronously,
 * returns a rejected promise or does not answer within `timeoutMs` becomes a
 * `SessionUnavailableError` (503); a late answer after the deadline is ignored.
 */
export function storeCall<T = void>(timeoutMs: number, what: string, run: (cb: Callback<T>) => unknown): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish: Callback<T> = (err, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err instanceof SessionUnavailableError ? err : new SessionUnavailableError(`The session store failed to ${what}.`, err));
      else resolve(value);
    };
    const timer = setTimeout(() => finish(new SessionUnavailableError(`The session store did not ${what} within ${timeoutMs} ms.`)), timeoutMs);
    try {
      const out = run(finish);
      if (out && typeof (out as Promise<unknown>).then === 'function') (out as Promise<unknown>).then(undefined, (err: unknown) => finish(err ?? new Error('rejected')));
    } catch (err) {
      finish(err);
    }
  });
}

const GUARDED_METHODS = { get: 'read the session', set: 'save the session', destroy: 'delete the session', touch: 'extend the session' } as const;
const DEADLINES = Symbol.for('express-oauth2-session.storeDeadlines');

/**
 * Deadlines of the store's own calls, checked by one shared sweeper instead of a timer per call:
 * express-session makes two store calls on every request (load, then touch or save), and a
 * promise plus a timer for each was a measurable share of a request's cost.
 */
interface PendingCall {
  deadline: number;
  expire: () => void;
}
const pending = new Set<PendingCall>();
let sweeper: ReturnType<typeof setInterval> | undefined;

function sweep(): void {
  const now = Date.now();
  for (const call of pending) if (call.deadline <= now) call.expire();
  if (pending.size === 0 && sweeper) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

function track(call: PendingCall, timeoutMs: number): void {
  pending.add(call);
  sweeper ??= setInterval(sweep, Math.max(10, Math.min(100, timeoutMs / 4))).unref();
}

/**
 * Give the store's own get/set/destroy/touch the same deadline and 503 mapping, so the calls
 * express-session makes at the start and end of each request cannot hang or crash a request
 * either. Installed once per store instance (own properties that shadow the class methods); the
 * store object keeps its identity, events and every other property.
 */
export function installStoreDeadlines(store: Store, timeoutMs: number): void {
  const target = store as Store & { [DEADLINES]?: true } & Record<string, unknown>;
  if (target[DEADLINES]) return;
  Object.defineProperty(target, DEADLINES, { value: true });
  for (const [name, what] of Object.entries(GUARDED_METHODS)) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    target[name] = function withDeadline(this: unknown, ...args: unknown[]) {
      const cb = typeof args[args.length - 1] === 'function' ? (args.pop() as Callback<unknown>) : undefined;
      let done = false;
      const finish: Callback<unknown> = (err, value) => {
        if (done) return;
        done = true;
        pending.delete(call);
        if (err) cb?.(err instanceof SessionUnavailableError ? err : new SessionUnavailableError(`The session store failed to ${what}.`, err));
        else cb?.(undefined, value);
      };
      const call: PendingCall = { deadline: Date.now() + timeoutMs, expire: () => finish(new SessionUnavailableError(`The session store did not ${what} within ${timeoutMs} ms.`)) };
      track(call, timeoutMs);
      try {
        const out = (original as (...a: unknown[]) => unknown).call(store, ...args, finish);
        if (out && typeof (out as Promise<unknown>).then === 'function') (out as Promise<unknown>).then(undefined, (err: unknown) => finish(err ?? new Error('rejected')));
      } catch (err) {
        finish(err);
      }
    };
  }
}
