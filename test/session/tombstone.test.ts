import type { Request } from 'express';
import { guardSessionSaves, saveLiveSession } from '../../lib/session/host-patches';
import { inProcessLock } from '../../lib/session/lock';
import { LoginStore } from '../../lib/session/login-store';
import { storeCall } from '../../lib/session/store-call';
import { recordKey, type CookieLike, type TokenRecord } from '../../lib/session/token-record';
import { TokenRecords, type CommitResult } from '../../lib/session/token-records';
import { hasTombstone, recordEndKey, sessionEndKey, tombstoneTtlMs, writeTombstone } from '../../lib/session/tombstone';
import { ControlledStore, everyInterleaving, requestWithSession, unguardSessionSaves, withSessions } from '../support/controlled-store';

// Fixtures: the one place to adapt when the stored shapes change.
const TIMEOUT_MS = 10_000;
const NOW = 1_700_000_000_000;
const SID = 'sid-1';
const PROVIDER = 'google';
const KEY = recordKey(SID, PROVIDER);
const END = recordEndKey(KEY);
const TTL_MS = 600_000;
const COOKIE: CookieLike = { expires: new Date(NOW + 3_600_000), originalMaxAge: 3_600_000 };

function tokenRecord(v: number): TokenRecord {
  return { v, tokens: { accessToken: `access-${v}`, tokenType: 'bearer', refreshToken: `refresh-${v}`, expiresAt: NOW + 300_000 } };
}

function storedSession(oauth?: Record<string, unknown>): Record<string, unknown> {
  return { cookie: { originalMaxAge: 3_600_000, expires: new Date(NOW + 3_600_000).toISOString(), httpOnly: true, path: '/' }, ...(oauth ? { oauth } : {}) };
}

function loggedIn(): Record<string, unknown> {
  return { p: { [PROVIDER]: { at: NOW, sub: 'alice' } } };
}

function save(req: Request): Promise<unknown> {
  return storeCall(TIMEOUT_MS, 'save', (cb) => req.session.save(cb));
}

afterEach(() => unguardSessionSaves());

describe('tombstone', () => {
  describe('keys and lifetime', () => {
    it('should derive the session and record tombstone keys when given their ids', () => {
      expect(sessionEndKey('abc')).toBe('abc:oauth:ended');
      expect(recordEndKey('abc:oauth:google')).toBe('abc:oauth:google:ended');
    });

    it.each([
      [undefined, 86_400_000],
      [null, 86_400_000],
      [1_000, 600_000],
      [3_600_000, 3_600_000],
      [2 * 86_400_000, 86_400_000],
    ])('should keep a tombstone %p ms → %p ms when the session max age is that', (maxAge, expected) => {
      expect(tombstoneTtlMs(maxAge)).toBe(expected);
    });

    it('should store the tombstone with its expiry and time when written at an injected now', async () => {
      const store = new ControlledStore();
      await writeTombstone(store, 'x:oauth:ended', TTL_MS, TIMEOUT_MS, NOW);
      expect(store.peek('x:oauth:ended')).toEqual({ cookie: { expires: new Date(NOW + TTL_MS).toISOString(), originalMaxAge: TTL_MS }, oauthEnded: NOW });
      await expect(hasTombstone(store, 'x:oauth:ended', TIMEOUT_MS)).resolves.toBe(true);
    });

    it('should not count a session or a malformed value as a tombstone when it has no numeric oauthEnded', async () => {
      const store = new ControlledStore();
      store.put('a', storedSession(loggedIn()));
      store.put('b', { cookie: {}, oauthEnded: 'yes' });
      await expect(hasTombstone(store, 'a', TIMEOUT_MS)).resolves.toBe(false);
      await expect(hasTombstone(store, 'b', TIMEOUT_MS)).resolves.toBe(false);
      await expect(hasTombstone(store, 'missing', TIMEOUT_MS)).resolves.toBe(false);
    });
  });

  describe('a refresh racing the end of its login (TokenRecords.commit vs TokenRecords.end)', () => {
    async function race() {
      const store = new ControlledStore();
      const records = new TokenRecords(store, TIMEOUT_MS);
      await records.write(SID, PROVIDER, tokenRecord(1), COOKIE);
      store.hold();
      const ended = store.as('logout', () => records.end(SID, PROVIDER, TTL_MS));
      const refreshed = store.as('refresh', () => records.commit(SID, PROVIDER, tokenRecord(2), COOKIE));
      return { store, ended, refreshed };
    }

    // The ender writes the tombstone, then deletes (its read of the record and the delete it
    // leads to); the writer writes, then checks the tombstone (and deletes what it wrote if it is there).
    const STEPS = {
      tombstone: (s: ControlledStore) => s.complete({ actor: 'logout', method: 'set', key: END }),
      delete: async (s: ControlledStore) => {
        await s.complete({ actor: 'logout', method: 'get', key: KEY });
        await s.completeIfWaiting({ actor: 'logout', method: 'destroy', key: KEY });
      },
      write: (s: ControlledStore) => s.complete({ actor: 'refresh', method: 'set', key: KEY }),
      check: async (s: ControlledStore) => {
        await s.complete({ actor: 'refresh', method: 'get', key: END });
        await s.completeIfWaiting({ actor: 'refresh', method: 'destroy', key: KEY });
      },
    };
    type Step = keyof typeof STEPS;

    /** Every merge of the logout's [tombstone, delete] with the refresh's [write, check]. */
    function orderings(a: Step[], b: Step[]): Step[][] {
      if (a.length === 0) return [b];
      if (b.length === 0) return [a];
      return [...orderings(a.slice(1), b).map((rest) => [a[0]!, ...rest]), ...orderings(a, b.slice(1)).map((rest) => [b[0]!, ...rest])];
    }

    // What each ordering returns: the logout revokes what `end` returned; a refresh that reports
    // `ended` revokes what it wrote. Either way the refreshed tokens (v2) are never left in the store.
    const EXPECTED: Array<[string, number | undefined, CommitResult['kind']]> = [
      ['tombstone, delete, write, check', 1, 'ended'],
      ['tombstone, write, delete, check', 2, 'ended'],
      ['tombstone, write, check, delete', undefined, 'ended'],
      ['write, tombstone, delete, check', 2, 'ended'],
      ['write, tombstone, check, delete', undefined, 'ended'],
      ['write, check, tombstone, delete', 2, 'committed'],
    ];

    it('should list every ordering of the two operations when the table is enumerated', () => {
      const all = orderings(['tombstone', 'delete'], ['write', 'check']).map((o) => o.join(', '));
      expect(all.sort()).toEqual(EXPECTED.map(([o]) => o).sort());
    });

    it.each(EXPECTED)('should end with no record when the calls complete in the order %s', async (ordering, endReturns, commitKind) => {
      const { store, ended, refreshed } = await race();
      for (const step of ordering.split(', ') as Step[]) await STEPS[step](store);
      expect(await store.waiting()).toEqual([]);
      const [record, commit] = await Promise.all([ended, refreshed]);
      expect(store.has(KEY)).toBe(false);
      expect(store.has(END)).toBe(true);
      expect(record?.v).toBe(endReturns);
      expect(commit).toEqual({ kind: commitKind });
    });

    it('should end with no record and never lose the refreshed tokens when every interleaving of every store call is run', async () => {
      const traces = await everyInterleaving(async (pick) => {
        const { store, ended, refreshed } = await race();
        const trace = await store.drain(pick);
        const [record, commit] = await Promise.all([ended, refreshed]);
        expect({ trace, left: store.has(KEY) }).toEqual({ trace, left: false });
        // Whoever deleted v2 reports it for revocation.
        expect({ trace, revoked: record?.v === 2 || commit.kind === 'ended' }).toEqual({ trace, revoked: true });
        return trace;
      });
      // Logout: tombstone, read, delete (no delete when the read finds nothing); refresh: write,
      // check, delete (only when the check sees the tombstone).
      expect(traces).toHaveLength(17);
      expect(new Set(traces.map((t) => t.join(' | '))).size).toBe(17);
    });
  });

  describe('guarded Session.prototype.save', () => {
    async function arrange(oauth: Record<string, unknown> | null = loggedIn()) {
      const store = withSessions(new ControlledStore(), { maxAge: 3_600_000 });
      store.put(SID, storedSession(oauth ?? undefined));
      const inFlight = requestWithSession(store, SID);
      guardSessionSaves(inFlight.session, TIMEOUT_MS);
      const logout = requestWithSession(store, SID);
      return { store, inFlight, logout, loginStore: new LoginStore(TIMEOUT_MS, inProcessLock) };
    }

    it('should not write the session back when it is saved after its logout', async () => {
      const { store, inFlight, logout, loginStore } = await arrange();
      await loginStore.endSession(logout);
      store.log.length = 0;
      (inFlight.session as unknown as Record<string, unknown>).visits = 2;
      await save(inFlight);
      expect(store.log).toEqual([`get ${SID}:oauth:ended`]);
      expect(store.has(SID)).toBe(false);
    });

    it('should save a live session with its data when no tombstone exists, checking before and after the write', async () => {
      const { store, inFlight } = await arrange();
      (inFlight.session as unknown as Record<string, unknown>).visits = 2;
      await save(inFlight);
      expect(store.log).toEqual([`get ${SID}:oauth:ended`, `set ${SID}`, `get ${SID}:oauth:ended`]);
      expect(store.peek(SID)).toMatchObject({ visits: 2, oauth: loggedIn() });
    });

    it('should save a session without login state with no extra store call when it holds no oauth data', async () => {
      const { store, inFlight } = await arrange(null);
      await save(inFlight);
      expect(store.log).toEqual([`set ${SID}`]);
    });

    it('should leave no session in the store when a save races its logout in every interleaving', async () => {
      const traces = await everyInterleaving(async (pick) => {
        const { store, inFlight, logout, loginStore } = await arrange();
        store.hold();
        const saving = store.as('save', () => save(inFlight));
        const ending = store.as('logout', () => loginStore.endSession(logout));
        const trace = await store.drain(pick);
        await Promise.all([saving, ending]);
        expect({ trace, left: store.has(SID) }).toEqual({ trace, left: false });
        return trace;
      });
      // {check, write, check (+ destroy when ended)} merged with {tombstone, destroy}; a save whose
      // first check sees the tombstone stops there.
      expect(new Set(traces.map((t) => t.join(' | '))).size).toBe(traces.length);
      expect(traces).toHaveLength(10);
      // The case the check after the write exists for: the logout lands between check and write.
      expect(traces).toContainEqual([
        `save: get ${SID}:oauth:ended`,
        `logout: set ${SID}:oauth:ended`,
        `logout: destroy ${SID}`,
        `save: set ${SID}`,
        `save: get ${SID}:oauth:ended`,
        `save: destroy ${SID}`,
      ]);
    });

    it('should write the session without any tombstone check when the package saves it with saveLiveSession', async () => {
      const { store, inFlight } = await arrange();
      await writeTombstone(store, sessionEndKey(SID), TTL_MS, TIMEOUT_MS, NOW);
      store.log.length = 0;
      await saveLiveSession(inFlight.session, TIMEOUT_MS);
      expect(store.log).toEqual([`set ${SID}`]);
      expect(store.has(SID)).toBe(true);
    });

    it('should report the store error to the caller when the write fails', async () => {
      const { store, inFlight } = await arrange();
      store.hold();
      const saving = save(inFlight).then(
        () => 'saved',
        (err: unknown) => err,
      );
      await store.complete({ method: 'get' });
      await (await store.take({ method: 'set' })).fail(new Error('disk full'));
      expect(await saving).toMatchObject({ code: 'OAUTH_SESSION_UNAVAILABLE', cause: { message: 'disk full' } });
      expect(await store.waiting()).toEqual([]);
    });
  });
});
