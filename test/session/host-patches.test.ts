import { IncomingMessage } from 'node:http';
import session, { type SessionData } from 'express-session';
import { guardSessionSaves, installLazyClient, installStoreDeadlines, uninstallHostPatches } from '../../lib/session/host-patches';

// The contract of lib/session/host-patches.ts: each patch is installed once per target (a second
// install is a no-op), detected by its marker, and undone by uninstallHostPatches.
class PlainStore extends session.Store {
  get(_sid: string, cb: (err: unknown, value?: SessionData | null) => void) {
    cb(undefined, null);
  }
  set(_sid: string, _s: unknown, cb?: (err?: unknown) => void) {
    cb?.();
  }
  destroy(_sid: string, cb?: (err?: unknown) => void) {
    cb?.();
  }
}

describe('host patches', () => {
  it('should give a store its deadlines once, and restore its own and inherited methods on uninstall', () => {
    const store = new PlainStore();
    const own = store as unknown as Record<string, unknown>;
    const ownTouch = (_sid: string, _s: unknown, cb?: () => void) => cb?.();
    own.touch = ownTouch;
    installStoreDeadlines(store, 50);
    const wrapped = store.get;
    expect([wrapped === PlainStore.prototype.get, own.touch === ownTouch]).toEqual([false, false]);
    installStoreDeadlines(store, 999);
    expect(store.get).toBe(wrapped);
    uninstallHostPatches(store);
    expect([Object.prototype.hasOwnProperty.call(store, 'get'), store.get === PlainStore.prototype.get, own.touch === ownTouch]).toEqual([false, true, true]);
    installStoreDeadlines(store, 50);
    expect(store.get).not.toBe(PlainStore.prototype.get);
    uninstallHostPatches(store);
  });

  it('should leave an in-process MemoryStore untouched', () => {
    const store = new session.MemoryStore();
    installStoreDeadlines(store, 50);
    expect(Object.prototype.hasOwnProperty.call(store, 'get')).toBe(false);
    uninstallHostPatches(store);
  });

  it('should wrap Session.prototype.save once and put the original back', () => {
    const proto = { save(this: unknown, cb?: () => void) { cb?.(); return this; } }; // prettier-ignore
    const original = proto.save;
    const fake = Object.create(proto) as never;
    guardSessionSaves(fake, 50);
    const guarded = proto.save;
    expect(guarded).not.toBe(original);
    guardSessionSaves(fake, 50);
    expect(proto.save).toBe(guarded);
    uninstallHostPatches(fake);
    expect(proto.save).toBe(original);
  });

  it('should install the lazy req.oauth getter per prototype and owner, never on IncomingMessage.prototype, and remove it', () => {
    const proto = {};
    const make = (req: object) => ({ req });
    expect(installLazyClient(IncomingMessage.prototype, make)).toBe(false);
    expect(installLazyClient(proto, make)).toBe(true);
    expect(installLazyClient(proto, make)).toBe(true);
    expect(installLazyClient(proto, () => ({}))).toBe(false);
    const req = Object.create(proto) as { oauth: { req: object } };
    expect(req.oauth.req).toBe(req);
    uninstallHostPatches(proto);
    expect(Object.getOwnPropertyDescriptor(proto, 'oauth')).toBeUndefined();
  });
});
