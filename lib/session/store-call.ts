import { SessionUnavailableError } from '../errors.js';

export type StoreCallback<T> = (err?: unknown, value?: T) => void;
type Callback<T> = StoreCallback<T>;

/**
 * One callback-style store call with the deadline: a store that fails, throws synchronously,
 * returns a rejected promise or does not answer within `timeoutMs` ends as a
 * `SessionUnavailableError` (503); `done` is called exactly once, and a late answer is ignored.
 * A Node timer per call and no promise: this runs twice on every request (see installStoreDeadlines
 * in host-patches.ts).
 */
export function callWithDeadline<T>(timeoutMs: number, what: string, run: (cb: Callback<T>) => unknown, done: Callback<T>): void {
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
