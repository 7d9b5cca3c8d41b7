import session from 'express-session';

type Method = 'get' | 'set' | 'destroy' | 'touch';
type Mode = 'ok' | 'error' | 'hang' | 'throw';

/**
 * A MemoryStore whose methods can be told to fail, throw synchronously or never answer: faults a real store produces
 * (Redis down, a network partition) but that cannot be switched per method on a real server.
 * `calls` counts every call per method.
 */
export class FaultyStore extends session.MemoryStore {
  readonly modes: Record<Method, Mode> = { get: 'ok', set: 'ok', destroy: 'ok', touch: 'ok' };
  readonly calls: Record<Method, number> = { get: 0, set: 0, destroy: 0, touch: 0 };

  fail(method: Method, mode: Mode = 'error'): void {
    this.modes[method] = mode;
  }

  heal(): void {
    for (const k of Object.keys(this.modes) as Method[]) this.modes[k] = 'ok';
  }

  #intercept(method: Method, cb: ((err?: unknown) => void) | undefined): boolean {
    this.calls[method] += 1;
    const mode = this.modes[method];
    if (mode === 'ok') return false;
    if (mode === 'throw') throw new Error(`store ${method} threw (injected)`);
    if (mode === 'error') process.nextTick(() => cb?.(new Error(`store ${method} failed (injected)`)));
    return true;
  }

  override get(sid: string, cb: (err: unknown, session?: session.SessionData | null) => void): void {
    if (!this.#intercept('get', cb)) super.get(sid, cb);
  }

  override set(sid: string, sess: session.SessionData, cb?: (err?: unknown) => void): void {
    if (!this.#intercept('set', cb)) super.set(sid, sess, cb);
  }

  override destroy(sid: string, cb?: (err?: unknown) => void): void {
    if (!this.#intercept('destroy', cb)) super.destroy(sid, cb);
  }

  override touch(sid: string, sess: session.SessionData, cb?: () => void): void {
    if (!this.#intercept('touch', cb as never)) super.touch(sid, sess, cb);
  }
}
