import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import session, { Store, type SessionData } from 'express-session';
import type { Request } from 'express';
import { uninstallHostPatches } from '../../lib/session/host-patches';

export type StoreMethod = 'get' | 'set' | 'destroy' | 'touch';

/** One call to the store, held at the gate until the test completes it. */
export interface StoreCall {
  /** The operation that made the call (`ControlledStore.as`), or '' when it was started outside one. */
  readonly actor: string;
  readonly method: StoreMethod;
  readonly key: string;
  /** `actor: method key` (`method key` without an actor), as in `ControlledStore.log`. */
  readonly label: string;
  /** Apply the call to the map, answer the caller and let it run on to its next store call (or its end). */
  complete(): Promise<void>;
  /** Answer the caller with an error, without touching the map. */
  fail(err?: Error): Promise<void>;
}

export interface CallMatch {
  actor?: string;
  method?: StoreMethod;
  key?: string;
}

type Callback = (err?: unknown, value?: unknown) => void;

/** Let every caller whose store call was answered run on: microtasks first, then one turn of the event loop. No timer. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function matches(call: StoreCall, match: CallMatch): boolean {
  return (match.actor === undefined || call.actor === match.actor) && (match.method === undefined || call.method === match.method) && (match.key === undefined || call.key === match.key);
}

/**
 * An express-session `Store` backed by a Map, for unit tests of lib/session. Values are kept as
 * JSON (a real store serializes: a `Date` comes back as a string). While `hold()` is on, every
 * get/set/destroy/touch waits at a gate as a `StoreCall`; the test decides which waiting call
 * completes, and in which order, so interleavings of concurrent operations are scripted exactly.
 * When open, calls complete on the next microtask.
 */
export class ControlledStore extends Store {
  readonly #actor = new AsyncLocalStorage<string>();
  readonly #data = new Map<string, string>();
  readonly #waiting: StoreCall[] = [];
  #held = false;
  /** Every completed call, by label, in completion order. */
  readonly log: string[] = [];

  /**
   * Run an operation as `actor`: its store calls (and those of everything it awaits) carry that
   * name, so a test can tell two operations' calls to the same key apart.
   */
  as<T>(actor: string, operation: () => Promise<T>): Promise<T> {
    return this.#actor.run(actor, operation);
  }

  /** From now on, every call waits at the gate. */
  hold(): void {
    this.#held = true;
  }

  /** Complete every waiting call (and those they lead to) and stop holding new ones. */
  async open(): Promise<void> {
    this.#held = false;
    while (this.#waiting.length > 0) await this.#waiting[0]!.complete();
    await settle();
  }

  /** The calls waiting at the gate, in arrival order (after letting callers run on). */
  async waiting(): Promise<readonly StoreCall[]> {
    await settle();
    return [...this.#waiting];
  }

  /**
   * The waiting call that matches. Everything here is deterministic: a call that is not waiting
   * once callers have run on never comes, so this throws (listing what is waiting) instead of hanging.
   */
  async take(match: CallMatch): Promise<StoreCall> {
    const waiting = await this.waiting();
    const call = waiting.find((c) => matches(c, match));
    if (!call) throw new Error(`no waiting store call matches ${JSON.stringify(match)}; waiting: [${waiting.map((c) => c.label).join(', ')}]`);
    return call;
  }

  /** Complete the waiting call that matches (see `take`). */
  async complete(match: CallMatch): Promise<void> {
    await (await this.take(match)).complete();
  }

  /** Complete the waiting call that matches, if there is one; true when there was. */
  async completeIfWaiting(match: CallMatch): Promise<boolean> {
    const call = (await this.waiting()).find((c) => matches(c, match));
    if (call) await call.complete();
    return call !== undefined;
  }

  /**
   * Complete waiting calls one at a time until none is left, `pick` choosing the index among the
   * waiting calls (arrival order). Returns the labels of the completed calls, in order.
   */
  async drain(pick: (waiting: readonly StoreCall[]) => number): Promise<string[]> {
    const trace: string[] = [];
    for (let waiting = await this.waiting(); waiting.length > 0; waiting = await this.waiting()) {
      const call = waiting[pick(waiting)]!;
      trace.push(call.label);
      await call.complete();
    }
    return trace;
  }

  // Arrange and assert, outside the gate and the log.

  /** The stored value (parsed as a store would return it), or undefined. */
  peek<T = Record<string, unknown>>(key: string): T | undefined {
    const raw = this.#data.get(key);
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }

  put(key: string, value: unknown): void {
    this.#data.set(key, JSON.stringify(value));
  }

  has(key: string): boolean {
    return this.#data.has(key);
  }

  keys(): string[] {
    return [...this.#data.keys()].sort();
  }

  override get(sid: string, cb: (err: unknown, session?: SessionData | null) => void): void {
    this.#call('get', sid, cb as Callback, () => this.peek(sid) ?? null);
  }

  override set(sid: string, sess: SessionData, cb?: (err?: unknown) => void): void {
    const json = JSON.stringify(sess); // serialized when called, as a real store does
    this.#call('set', sid, cb as Callback, () => void this.#data.set(sid, json));
  }

  override destroy(sid: string, cb?: (err?: unknown) => void): void {
    this.#call('destroy', sid, cb as Callback, () => void this.#data.delete(sid));
  }

  override touch(sid: string, sess: SessionData, cb?: () => void): void {
    const cookie = JSON.parse(JSON.stringify(sess.cookie)) as unknown;
    this.#call('touch', sid, cb as Callback, () => {
      const current = this.peek(sid);
      if (current) this.put(sid, { ...current, cookie });
    });
  }

  #call(method: StoreMethod, key: string, callback: Callback | undefined, run: () => unknown): void {
    // Answered in the caller's async context (as a store client does), not the test's.
    const cb = callback && AsyncResource.bind(callback);
    const actor = this.#actor.getStore() ?? '';
    const label = actor ? `${actor}: ${method} ${key}` : `${method} ${key}`;
    let answered = false;
    const answer = (err: Error | undefined): void => {
      if (answered) throw new Error(`${label} answered twice`);
      answered = true;
      const index = this.#waiting.indexOf(call);
      if (index >= 0) this.#waiting.splice(index, 1);
      if (err) return cb?.(err);
      const value = run();
      this.log.push(label);
      cb?.(undefined, value);
    };
    const call: StoreCall = {
      actor,
      method,
      key,
      label,
      complete: async () => {
        answer(undefined);
        await settle();
      },
      fail: async (err = new Error(`${label} failed (injected)`)) => {
        answer(err);
        await settle();
      },
    };
    if (this.#held) this.#waiting.push(call);
    else queueMicrotask(() => answer(undefined));
  }
}

/**
 * Every interleaving of the held store calls of a scenario, depth-first. `run` arranges a fresh
 * store, starts the concurrent operations, calls `drain(pick)` with the picker it is given, checks
 * the outcome and returns the trace. It must be deterministic: each run replays a prefix of
 * choices and then takes the first waiting call, until every branch has been taken.
 */
export async function everyInterleaving(run: (pick: (waiting: readonly StoreCall[]) => number) => Promise<string[]>): Promise<string[][]> {
  const traces: string[][] = [];
  let prefix: number[] = [];
  for (;;) {
    const taken: number[] = [];
    const widths: number[] = [];
    traces.push(
      await run((waiting) => {
        const i = prefix[taken.length] ?? 0;
        taken.push(i);
        widths.push(waiting.length);
        return i;
      }),
    );
    let k = taken.length - 1;
    while (k >= 0 && taken[k]! + 1 >= widths[k]!) k--;
    if (k < 0) return traces;
    prefix = [...taken.slice(0, k), taken[k]! + 1];
  }
}

/** The options of `withSessions`. */
export interface SessionSetup {
  /** `cookie.maxAge` of new sessions (express-session's option); undefined: browser-session cookies. */
  maxAge?: number;
  /** Ids given to regenerated sessions, in order. */
  ids?: string[];
}

/**
 * Give the store what the express-session middleware gives it (`store.generate`, used by
 * `regenerate`), by creating the middleware, with predictable session ids.
 */
export function withSessions(store: ControlledStore, setup: SessionSetup = {}): ControlledStore {
  const ids = [...(setup.ids ?? [])];
  let n = 0;
  session({
    store,
    secret: 'test secret',
    resave: false,
    saveUninitialized: false,
    genid: () => ids.shift() ?? `sid-${++n}`,
    cookie: setup.maxAge === undefined ? {} : { maxAge: setup.maxAge },
  });
  return store;
}

/** A request that holds the stored session `sessionId`, loaded the way express-session loads it (`store.createSession`). */
export function requestWithSession(store: ControlledStore, sessionId: string, data?: Record<string, unknown>): Request {
  const req = { sessionID: sessionId, sessionStore: store, headers: {} } as unknown as Request;
  const stored = data ?? store.peek(sessionId);
  if (!stored) throw new Error(`no stored session ${sessionId}`);
  store.createSession(req, JSON.parse(JSON.stringify(stored)) as never);
  return req;
}

/**
 * Undo the save guard (host-patches.ts) on express-session's `Session` class, which the guard
 * patches for the whole test file once any test installs it: each test starts unguarded.
 */
export function unguardSessionSaves(): void {
  uninstallHostPatches(session.Session.prototype);
}
