import type { Lease, RefreshLock } from '../../lib/session/lock';
import { inProcessLock } from '../../lib/session/lock';
import { stateKey, TRANSACTION_TTL_MS, type LiveSession } from '../../lib/session/session-data';
import type { PendingLogin, StoredTransaction } from '../../lib/session/session-format';
import { TransactionClaims } from '../../lib/session/transactions';
import { ControlledStore, requestWithSession } from '../support/controlled-store';

// Fixtures: the one place to adapt when the stored shapes change.
const NOW = 1_700_000_000_000;
const STATE = 'state-abc';
const SID = 'pre-login';

/** A pending login as a claim returns it. */
function pendingLogin(provider: string, createdAt = NOW - 60_000): PendingLogin {
  return { provider, codeVerifier: 'verifier', nonce: 'nonce', returnTo: '/after', createdAt };
}

/** `pendingLogin(...)` as the session stores it. */
function storedTransaction(provider: string, createdAt = NOW - 60_000): StoredTransaction {
  return { p: provider, v: 'verifier', n: 'nonce', r: '/after', t: createdAt };
}

function pendingOf(session: LiveSession): Record<string, unknown> | undefined {
  return session.oauth?.tx;
}

/** A copy of the stored session as one request loads it (two requests with one cookie load two copies). */
function loadSession(store: ControlledStore, sessionId = SID): LiveSession {
  return requestWithSession(store, sessionId).session as LiveSession;
}

function storeWith(tx: StoredTransaction, sessionId = SID): ControlledStore {
  const store = new ControlledStore();
  store.put(sessionId, { cookie: { originalMaxAge: null, expires: null }, oauth: { tx: { [STATE]: tx } } });
  return store;
}

/** A lease that is held until released. */
function heldLease(): Lease {
  let held = true;
  return { extend: async () => held, isHeld: async () => held, release: async () => void (held = false) };
}

/** A cross-process lock that records its calls and answers `answer`. */
function fakeLock(answer: () => Promise<Lease | undefined>): RefreshLock & { calls: Array<[string, number]> } {
  const calls: Array<[string, number]> = [];
  return {
    calls,
    acquire: (key, ttlMs) => {
      calls.push([key, ttlMs]);
      return answer();
    },
    waitForRelease: async () => {},
  };
}

describe('transactions', () => {
  it('should let the first claim win and make the second a duplicate that follows its outcome when the same callback arrives twice', async () => {
    const store = storeWith(storedTransaction('google'));
    const first = loadSession(store);
    const second = loadSession(store);
    const claims = new TransactionClaims(inProcessLock);
    const [won, duplicate] = await Promise.all([claims.claim(first, STATE, 'google', 'code-1', NOW), claims.claim(second, STATE, 'google', 'code-1', NOW)]);
    expect(won).toEqual({ kind: 'won', tx: pendingLogin('google'), settle: expect.any(Function) });
    expect(duplicate).toEqual({ kind: 'duplicate', tx: pendingLogin('google'), outcome: expect.any(Promise) });
    expect([pendingOf(first), pendingOf(second)]).toEqual([{}, {}]);
    if (won.kind !== 'won' || duplicate.kind !== 'duplicate') throw new Error('unreachable');
    won.settle({ sessionId: 'sid-2' });
    await expect(duplicate.outcome).resolves.toEqual({ sessionId: 'sid-2' });
  });

  it('should treat a later copy as a duplicate too when the first claim has already finished', async () => {
    const store = storeWith(storedTransaction('google'));
    const claims = new TransactionClaims(inProcessLock);
    const won = await claims.claim(loadSession(store), STATE, 'google', 'code-1', NOW);
    if (won.kind !== 'won') throw new Error(`expected won, got ${won.kind}`);
    won.settle({ sessionId: undefined });
    const late = await claims.claim(loadSession(store), STATE, 'google', 'code-1', NOW + 1);
    expect(late.kind).toBe('duplicate');
    if (late.kind === 'duplicate') await expect(late.outcome).resolves.toEqual({ sessionId: undefined });
  });

  it.each([
    ['another code', 'code-2', SID],
    ['another session', 'code-1', 'other-session'],
  ])('should reject the second claim and consume its transaction when it carries %s', async (_what, code, sessionId) => {
    const store = storeWith(storedTransaction('google'));
    store.put('other-session', store.peek(SID));
    const claims = new TransactionClaims(inProcessLock);
    await claims.claim(loadSession(store), STATE, 'google', 'code-1', NOW);
    const replay = loadSession(store, sessionId);
    await expect(claims.claim(replay, STATE, 'google', code, NOW)).resolves.toEqual({ kind: 'rejected' });
    expect(pendingOf(replay)).toEqual({});
  });

  it('should reject the claim and leave the transaction in place when the callback is for another provider', async () => {
    const store = storeWith(storedTransaction('google'));
    const session = loadSession(store);
    const claims = new TransactionClaims(inProcessLock);
    await expect(claims.claim(session, STATE, 'github', 'code-1', NOW)).resolves.toEqual({ kind: 'rejected' });
    expect(pendingOf(session)).toEqual({ [STATE]: storedTransaction('google') });
    await expect(claims.claim(session, STATE, 'google', 'code-1', NOW)).resolves.toMatchObject({ kind: 'won' });
  });

  it.each([
    ['at its expiry', TRANSACTION_TTL_MS, 'rejected'],
    ['1 ms before its expiry', TRANSACTION_TTL_MS - 1, 'won'],
  ])('should answer %s → %s when the transaction is claimed that late', async (_when, age, kind) => {
    const store = storeWith(storedTransaction('google', NOW));
    const result = await new TransactionClaims(inProcessLock).claim(loadSession(store), STATE, 'google', 'code-1', NOW + age);
    expect(result.kind).toBe(kind);
  });

  it('should reject the claim when the session has no transaction for the state', async () => {
    const store = storeWith(storedTransaction('google'));
    await expect(new TransactionClaims(inProcessLock).claim(loadSession(store), 'unknown-state', 'google', 'code-1', NOW)).resolves.toEqual({ kind: 'rejected' });
  });

  describe('across processes', () => {
    it('should take the lock for the state until the transaction expires when claiming', async () => {
      const tx = storedTransaction('google', NOW - 60_000);
      const lock = fakeLock(async () => heldLease());
      await new TransactionClaims(lock).claim(loadSession(storeWith(tx)), STATE, 'google', 'code-1', NOW);
      expect(lock.calls).toEqual([[`oauth-state:${stateKey(STATE)}`, TRANSACTION_TTL_MS - 60_000]]);
    });

    it('should reject the second process, and its duplicates, when the lock is already held by the first', async () => {
      const store = storeWith(storedTransaction('google'));
      const processA = new TransactionClaims(inProcessLock);
      const refusing = fakeLock(async () => undefined);
      const processB = new TransactionClaims(refusing);
      await expect(processA.claim(loadSession(store), STATE, 'google', 'code-1', NOW)).resolves.toMatchObject({ kind: 'won' });
      await expect(processB.claim(loadSession(store), STATE, 'google', 'code-1', NOW)).resolves.toEqual({ kind: 'rejected' });
      const duplicateInB = await processB.claim(loadSession(store), STATE, 'google', 'code-1', NOW);
      expect(duplicateInB.kind).toBe('duplicate');
      if (duplicateInB.kind === 'duplicate') await expect(duplicateInB.outcome).resolves.toEqual({ sessionId: undefined });
      expect(refusing.calls).toHaveLength(1);
    });

    it('should answer 503 and forget the claim so a retry can win when the lock is unavailable', async () => {
      const store = storeWith(storedTransaction('google'));
      let down = true;
      const lock = fakeLock(async () => {
        if (down) throw new Error('redis down');
        return heldLease();
      });
      const claims = new TransactionClaims(lock);
      await expect(claims.claim(loadSession(store), STATE, 'google', 'code-1', NOW)).rejects.toMatchObject({ status: 503, code: 'OAUTH_SESSION_UNAVAILABLE', cause: { message: 'redis down' } });
      down = false;
      await expect(claims.claim(loadSession(store), STATE, 'google', 'code-1', NOW)).resolves.toMatchObject({ kind: 'won' });
    });
  });
});
