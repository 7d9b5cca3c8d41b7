/**
 * One login's grants that spend its refresh token, one at a time in this process: the login's own
 * refresh and each per-API grant (RFC 8707) queue here before they take the cross-process lock.
 * The default in-process lock always grants a lease, so without this queue two APIs' grants of one
 * login would send the same rotating refresh token at once (the second gets `invalid_grant`).
 */
export class LoginQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Run `work` after every earlier work of `key` settled; its result (or error) is the caller's. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key);
    const result = before ? before.then(work, work) : work();
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
