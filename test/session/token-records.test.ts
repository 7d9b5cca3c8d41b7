import type { DpopKey } from '../../lib/protocol/dpop';
import { recordKey, type CookieLike, type TokenRecord } from '../../lib/session/token-record';
import { endedTokens, expireStoredAccessToken, TokenRecords } from '../../lib/session/token-records';
import { recordEndKey, writeTombstone } from '../../lib/session/tombstone';
import { ControlledStore } from '../support/controlled-store';

// Fixtures: the one place to adapt when the stored shapes change.
const TIMEOUT_MS = 10_000;
const NOW = 1_700_000_000_000;
const SID = 'sid-1';
const PROVIDER = 'google';
const KEY = recordKey(SID, PROVIDER);
const END = recordEndKey(KEY);
const EXPIRES = new Date(NOW + 3_600_000);
const COOKIE: CookieLike = { expires: EXPIRES, originalMaxAge: 3_600_000 };
const DPOP: DpopKey = { kty: 'EC', crv: 'P-256', x: 'key-x', y: 'key-y', d: 'key-d' };

function tokenRecord(v: number, extra: Partial<TokenRecord> = {}): TokenRecord {
  return { v, tokens: { accessToken: `access-${v}`, tokenType: 'bearer', refreshToken: `refresh-${v}`, expiresAt: NOW + 300_000 }, ...extra };
}

/** The stored (current) format of `tokenRecord(v)`. */
function storedRecord(v: number, expires: Date | null = EXPIRES) {
  return { cookie: { expires: expires && expires.toISOString() }, t: { v, a: `access-${v}`, r: `refresh-${v}`, e: NOW + 300_000 } };
}

function setUp() {
  const store = new ControlledStore();
  return { store, records: new TokenRecords(store, TIMEOUT_MS) };
}

describe('token-records', () => {
  it('should store the record under <sid>:oauth:<provider> in the current format with the cookie expiry when written', async () => {
    const { store, records } = setUp();
    await records.write(SID, PROVIDER, tokenRecord(1), COOKIE);
    expect(store.keys()).toEqual(['sid-1:oauth:google']);
    expect(store.peek(KEY)).toEqual(storedRecord(1));
  });

  it('should read back the record that was written, DPoP key included, when read', async () => {
    const { records } = setUp();
    await records.write(SID, PROVIDER, tokenRecord(3, { dpop: DPOP }), COOKIE);
    await expect(records.read(SID, PROVIDER)).resolves.toEqual(tokenRecord(3, { dpop: DPOP }));
  });

  it('should read undefined when there is no record or the value is malformed', async () => {
    const { store, records } = setUp();
    await expect(records.read(SID, PROVIDER)).resolves.toBeUndefined();
    store.put(KEY, { cookie: {}, t: { v: 'one', a: 'x' } });
    await expect(records.read(SID, PROVIDER)).resolves.toBeUndefined();
  });

  it('should remove only that record when deleted', async () => {
    const { store, records } = setUp();
    await records.write(SID, PROVIDER, tokenRecord(1), COOKIE);
    await records.write(SID, 'github', tokenRecord(1), COOKIE);
    await records.delete(SID, PROVIDER);
    expect(store.keys()).toEqual(['sid-1:oauth:github']);
  });

  describe('commit', () => {
    it('should keep the write and report committed when the login has no tombstone', async () => {
      const { store, records } = setUp();
      await expect(records.commit(SID, PROVIDER, tokenRecord(2), COOKIE)).resolves.toEqual({ kind: 'committed' });
      expect(store.log).toEqual([`set ${KEY}`, `get ${END}`]);
      expect(store.peek(KEY)).toEqual(storedRecord(2));
    });

    it('should undo the write and report ended when the login was tombstoned', async () => {
      const { store, records } = setUp();
      await writeTombstone(store, END, 600_000, TIMEOUT_MS, NOW);
      store.log.length = 0;
      await expect(records.commit(SID, PROVIDER, tokenRecord(2), COOKIE)).resolves.toEqual({ kind: 'ended' });
      expect(store.log).toEqual([`set ${KEY}`, `get ${END}`, `destroy ${KEY}`]);
      expect(store.has(KEY)).toBe(false);
    });
  });

  describe('end', () => {
    it('should tombstone, read and delete the record and return it with its DPoP key when the login ends', async () => {
      const { store, records } = setUp();
      await records.write(SID, PROVIDER, tokenRecord(4, { dpop: DPOP }), COOKIE);
      store.log.length = 0;
      await expect(records.end(SID, PROVIDER, 600_000)).resolves.toEqual(tokenRecord(4, { dpop: DPOP }));
      expect(store.log).toEqual([`set ${END}`, `get ${KEY}`, `destroy ${KEY}`]);
      expect(store.keys()).toEqual([END]);
      expect(store.peek(END)).toMatchObject({ cookie: { originalMaxAge: 600_000 }, oauthEnded: expect.any(Number) });
    });

    it('should still write the tombstone and delete nothing when there is no record', async () => {
      const { store, records } = setUp();
      await expect(records.end(SID, PROVIDER, 600_000)).resolves.toBeUndefined();
      expect(store.log).toEqual([`set ${END}`, `get ${KEY}`]);
      expect(store.keys()).toEqual([END]);
    });
  });

  it('should give the tokens, and the DPoP key only when the record has one, when a record is ended', () => {
    expect(endedTokens(tokenRecord(1))).toEqual({ tokens: tokenRecord(1).tokens });
    expect(endedTokens(tokenRecord(1, { dpop: DPOP }))).toEqual({ tokens: tokenRecord(1).tokens, dpop: DPOP });
  });

  describe('expireStoredAccessToken', () => {
    it('should rewrite the record with expiresAt 1 s before now, the next version and the same expiry when it exists', async () => {
      const { store, records } = setUp();
      await records.write(SID, PROVIDER, tokenRecord(5), COOKIE);
      await expect(expireStoredAccessToken(store, SID, PROVIDER, TIMEOUT_MS, NOW)).resolves.toBe(true);
      expect(store.peek(KEY)).toEqual({ cookie: { expires: EXPIRES.toISOString() }, t: { v: 6, a: 'access-5', r: 'refresh-5', e: NOW - 1000 } });
    });

    it('should write nothing and return false when there is no record', async () => {
      const { store } = setUp();
      await expect(expireStoredAccessToken(store, SID, PROVIDER, TIMEOUT_MS, NOW)).resolves.toBe(false);
      expect(store.keys()).toEqual([]);
    });
  });
});
