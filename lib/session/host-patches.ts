// Host patches: the only place this package changes objects it does not own.
//
// WHAT IS PATCHED, AND WHY
//   1. The session store's own `get`/`set`/`destroy`/`touch` (installStoreDeadlines): each call
//      gets a deadline and maps failures (errors, synchronous throws, rejected promises, no answer)
//      to `SessionUnavailableError` (503), so the calls express-session itself makes at the start
//      and end of every request cannot hang or crash it. Own properties on that store instance
//      shadow its class methods; methods of express-session's in-process `MemoryStore` are left
//      alone (a map in this process cannot hang or fail).
//   2. `save` of express-session's `Session` class (guardSessionSaves), found through the first
//      session seen: a session holding our data that ended (logout, regeneration at login) while
//      a request held it is not written back (tombstone checked before and after the write; see
//      tombstone.ts); a session holding several logins is not written back with the marker of a
//      login that ended meanwhile (back-channel logout of one provider: its record tombstone,
//      checked before and after the write too). Sessions without our data are saved exactly as
//      before, with no extra call.
//   3. `oauth` on the app's request prototype (installLazyClient): a getter that builds
//      `req.oauth` on first access and caches it as an own property of that request, so requests
//      that never touch it cost no write and no allocation.
//
// WHAT IS GUARANTEED
//   - The patched object keeps its identity, events and every other property; patched methods
//     keep their signatures and call the original with the same `this` and arguments.
//   - Store methods: the callback is called exactly once; a late answer is ignored.
//   - Session saves: `saveLiveSession` bypasses the guard for the package's own saves.
//   - Request prototype: Node's shared `IncomingMessage.prototype` and `Object.prototype` are never
//     patched (the caller assigns `req.oauth` per request instead); assigning `req.oauth` still works.
//
// IDEMPOTENCE AND DETECTION
//   Each patch marks its target with a `Symbol.for('express-oauth2-session.…')` key, so installing
//   twice (two middleware instances, or two copies of this package) patches once:
//   `STORE_DEADLINES` on the store (holds the replaced methods), `ORIGINAL_SAVE` on the `Session`
//   prototype (holds the original `save`), `LAZY_CLIENT_OWNER` on the `oauth` getter (names the
//   maker that installed it; another instance's prototype is left to that instance). The first
//   installer's settings win: the deadline of the first middleware (or `guardSessionStore`) that
//   reaches a store or the `Session` class is the one applied.
//
// UNDOING
//   `uninstallHostPatches(...targets)` restores whatever of the three it finds on each target (a
//   store, a `Session` or its prototype, a request prototype) and is a no-op elsewhere. For tests;
//   an app never needs it. Nothing here keeps a list of patched objects: the markers are the record.
import { IncomingMessage } from 'node:http';
import type { Session, Store } from 'express-session';
import { debugFor } from '../debug.js';
import { callWithDeadline, storeCall, type StoreCallback } from './store-call.js';
import { recordKey } from './token-record.js';
import { hasTombstone, recordEndKey, sessionEndKey } from './tombstone.js';

const log = debugFor('store');

const STORE_DEADLINES = Symbol.for('express-oauth2-session.storeDeadlines');
const ORIGINAL_SAVE = Symbol.for('express-oauth2-session.originalSave');
const LAZY_CLIENT_OWNER = Symbol.for('express-oauth2-session.lazyClientOwner');

// ---------------------------------------------------------------------------------------------
// 1. Store methods

const GUARDED_METHODS = { get: 'read the session', set: 'save the session', destroy: 'delete the session', touch: 'extend the session' } as const;

/** A replaced store method: what to put back on uninstall. */
interface ReplacedMethod {
  name: string;
  original: unknown;
  /** The original was an own property of the store (else the own wrapper is simply deleted). */
  wasOwn: boolean;
  wrapper: unknown;
}

type PatchedStore = Store & { [STORE_DEADLINES]?: ReplacedMethod[] } & Record<string, unknown>;

/** A method of an in-process `MemoryStore` itself (express-session's; matched by class name), neither overridden by a subclass nor replaced on the instance. */
function isInProcessMethod(store: Store, name: string): boolean {
  const proto = Object.getPrototypeOf(store) as { constructor?: { name?: string } } & Record<string, unknown>;
  return proto?.constructor?.name === 'MemoryStore' && Object.prototype.hasOwnProperty.call(proto, name) && (store as unknown as Record<string, unknown>)[name] === proto[name];
}

/**
 * Give the store's own get/set/destroy/touch the deadline and 503 mapping of `callWithDeadline`.
 * Once per store instance (patch 1 above).
 *
 * Each call gets its own Node timer (`callWithDeadline`): Node's timer lists make a timer cheap to
 * set and clear, while keeping pending calls in a shared collection swept on an interval (tried)
 * cost ~10 % of a logged-in request's CPU in the paired bench (bench/RESULTS.md).
 */
export function installStoreDeadlines(store: Store, timeoutMs: number): void {
  const target = store as PatchedStore;
  if (target[STORE_DEADLINES]) return;
  const replaced: ReplacedMethod[] = [];
  Object.defineProperty(target, STORE_DEADLINES, { value: replaced, configurable: true });
  for (const [name, what] of Object.entries(GUARDED_METHODS)) {
    const original = target[name];
    if (typeof original !== 'function' || isInProcessMethod(store, name)) continue;
    const wasOwn = Object.prototype.hasOwnProperty.call(target, name);
    const wrapper = function withDeadline(this: unknown, ...args: unknown[]) {
      const cb = typeof args[args.length - 1] === 'function' ? (args.pop() as StoreCallback<unknown>) : undefined;
      callWithDeadline(
        timeoutMs,
        what,
        (finish) => (original as (...a: unknown[]) => unknown).call(store, ...args, finish),
        (err, value) => cb?.(err, value),
      );
    };
    target[name] = wrapper;
    replaced.push({ name, original, wasOwn, wrapper });
  }
}

function uninstallStoreDeadlines(target: PatchedStore): void {
  const replaced = target[STORE_DEADLINES];
  if (!replaced) return;
  for (const { name, original, wasOwn, wrapper } of replaced) {
    if (target[name] !== wrapper) continue; // replaced again since: not ours to restore
    if (wasOwn) target[name] = original;
    else delete target[name];
  }
  delete target[STORE_DEADLINES];
}

// ---------------------------------------------------------------------------------------------
// 2. Session.prototype.save

type SaveFn = (this: Session, cb?: (err?: unknown) => void) => Session;
type GuardedProto = { save: SaveFn; [ORIGINAL_SAVE]?: SaveFn };

/** Sessions carrying our data (a login marker or a pending transaction) are the ones to guard. */
function holdsLoginState(session: Session): boolean {
  const data = (session as Session & { oauth?: unknown }).oauth;
  return typeof data === 'object' && data !== null;
}

/** The providers with a login marker in this session. */
function loginProviders(session: Session): Record<string, unknown> | undefined {
  const markers = (session as Session & { oauth?: { p?: unknown } }).oauth?.p;
  return typeof markers === 'object' && markers !== null ? (markers as Record<string, unknown>) : undefined;
}

/**
 * Drop the markers of logins that ended (their record has a tombstone) from a session holding
 * several logins; true when one was dropped. A session with one login left never has one of them
 * end alone (a back-channel logout then ends the whole session), so it costs no store call.
 */
async function dropEndedLogins(session: Session, store: Store, timeoutMs: number): Promise<boolean> {
  const markers = loginProviders(session);
  const providers = markers ? Object.keys(markers) : [];
  if (!markers || providers.length < 2) return false;
  const ended = await Promise.all(providers.map((p) => hasTombstone(store, recordEndKey(recordKey(session.id, p)), timeoutMs)));
  providers.forEach((p, i) => {
    if (ended[i]) delete markers[p];
  });
  return ended.includes(true);
}

/**
 * Wrap `save()` of express-session's `Session` class (once per process, found through the first
 * session seen) so that a session which ended while a request held it is not written back, nor a
 * login that ended alone (patch 2).
 */
export function guardSessionSaves(session: Session, timeoutMs: number): void {
  const proto = Object.getPrototypeOf(session) as GuardedProto;
  if (!proto || proto[ORIGINAL_SAVE] || typeof proto.save !== 'function') return;
  const original = proto.save;
  Object.defineProperty(proto, ORIGINAL_SAVE, { value: original, configurable: true });
  proto.save = function guardedSave(this: Session, cb) {
    const store = (this as Session & { req?: { sessionStore?: Store } }).req?.sessionStore;
    if (!store || !holdsLoginState(this)) return original.call(this, cb);
    const key = sessionEndKey(this.id);
    const reportDone = (err?: unknown) => cb?.(err);
    const write = () => new Promise<void>((resolve, reject) => original.call(this, (err?: unknown) => (err ? reject(err) : resolve())));
    const guarded = async () => {
      const [ended] = await Promise.all([hasTombstone(store, key, timeoutMs), dropEndedLogins(this, store, timeoutMs)]);
      if (ended) return log('not saving session that ended meanwhile');
      await write();
      const [endedNow, droppedNow] = await Promise.all([hasTombstone(store, key, timeoutMs), dropEndedLogins(this, store, timeoutMs)]);
      if (endedNow) await storeCall(timeoutMs, 'destroy the session', (done) => store.destroy(this.id, done));
      else if (droppedNow) await write();
    };
    guarded().then(() => reportDone(), reportDone);
    return this;
  };
}

/** Save without the guard: for the package's own saves of a session it knows is live. */
export function saveLiveSession(session: Session, timeoutMs: number): Promise<void> {
  const proto = Object.getPrototypeOf(session) as GuardedProto;
  const save = proto[ORIGINAL_SAVE] ?? session.save;
  return storeCall(timeoutMs, 'save the session', (cb) => save.call(session, cb)).then(() => undefined);
}

function uninstallSessionSaveGuard(proto: GuardedProto): void {
  const original = proto[ORIGINAL_SAVE];
  if (!original) return;
  proto.save = original;
  delete proto[ORIGINAL_SAVE];
}

// ---------------------------------------------------------------------------------------------
// 3. The request prototype's `oauth`

function defineOwn(req: object, value: unknown): void {
  Object.defineProperty(req, 'oauth', { value, writable: true, configurable: true, enumerable: true });
}

/**
 * `req.oauth` at no per-request cost (patch 3): a getter on the app's request prototype (Express
 * gives each app its own, `app.request`) builds the value on first access and caches it on that
 * request as an own `oauth` property (later reads never reach the getter). (A WeakMap from request
 * to client, tried first, cost ~20 % of a logged-in request's CPU in the paired bench: every entry
 * is an ephemeron the garbage collector has to trace.)
 * Returns false where that is not possible, and the caller assigns per request instead: Node's
 * shared `IncomingMessage.prototype` (plain Connect), or a prototype whose getter another `make`
 * (another `oauthMiddleware` instance) installed.
 */
export function installLazyClient<R extends object>(proto: object | null, make: (req: R) => unknown): boolean {
  if (!proto || proto === IncomingMessage.prototype || proto === Object.prototype) return false;
  const existing = Object.getOwnPropertyDescriptor(proto, 'oauth');
  if (existing) return (existing.get as { [LAZY_CLIENT_OWNER]?: unknown } | undefined)?.[LAZY_CLIENT_OWNER] === make;
  const get = Object.assign(
    function oauthClient(this: R): unknown {
      const client = make(this);
      defineOwn(this, client);
      return client;
    },
    { [LAZY_CLIENT_OWNER]: make },
  );
  Object.defineProperty(proto, 'oauth', {
    get,
    set(this: object, value: unknown) {
      defineOwn(this, value);
    },
    configurable: true,
    enumerable: false,
  });
  return true;
}

function uninstallLazyClient(proto: object): void {
  const existing = Object.getOwnPropertyDescriptor(proto, 'oauth');
  if (existing?.get && LAZY_CLIENT_OWNER in existing.get) delete (proto as { oauth?: unknown }).oauth;
}

// ---------------------------------------------------------------------------------------------

/**
 * Undo whatever of the three patches is found on each target: a session store, a `Session` (or its
 * prototype), a request prototype (`app.request`). Targets without a patch are left untouched.
 * For tests.
 */
export function uninstallHostPatches(...targets: object[]): void {
  for (const target of targets) {
    uninstallStoreDeadlines(target as PatchedStore);
    uninstallSessionSaveGuard(target as GuardedProto);
    const proto = Object.getPrototypeOf(target) as GuardedProto | null;
    if (proto && Object.prototype.hasOwnProperty.call(proto, ORIGINAL_SAVE)) uninstallSessionSaveGuard(proto);
    uninstallLazyClient(target);
  }
}
