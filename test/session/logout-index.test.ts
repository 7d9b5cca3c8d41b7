import { addToLogoutIndex, INDEX_LIFETIME_WITHOUT_EXPIRY_MS, logoutIndexKey, logoutTokenSeen, readLogoutIndex, recordLogoutToken, replayKey } from '../../lib/session/logout-index';
import { ControlledStore } from '../support/controlled-store';

// Fixtures: the one place to adapt when the stored shapes change.
const TIMEOUT_MS = 10_000;
const NOW = 1_700_000_000_000;
const KEY = logoutIndexKey('google', { kind: 'sid', value: 'op-session-1' });

function indexEntry(sessions: Record<string, number>, expires: number | null) {
  return { cookie: { expires: expires === null ? null : new Date(expires).toISOString(), originalMaxAge: expires === null ? null : expires - NOW }, oauthSessions: sessions };
}

describe('logout-index', () => {
  describe('keys', () => {
    it('should hash the subject into a provider-scoped key when building an index key', () => {
      expect(KEY).toMatch(/^oauth-bcl:google:sid:[A-Za-z0-9_-]{32}$/);
      expect(KEY).not.toContain('op-session-1');
      expect(logoutIndexKey('google', { kind: 'sub', value: 'op-session-1' })).toBe(KEY.replace(':sid:', ':sub:'));
      expect(logoutIndexKey('github', { kind: 'sid', value: 'op-session-1' })).toBe(KEY.replace(':google:', ':github:'));
    });

    it('should give each issuer its own replay key when the jti is the same', () => {
      expect(replayKey('https://a', 'jti-1')).toMatch(/^oauth-bcl:jti:[A-Za-z0-9_-]{32}$/);
      expect(replayKey('https://a', 'jti-1')).not.toBe(replayKey('https://b', 'jti-1'));
    });
  });

  describe('addToLogoutIndex / readLogoutIndex', () => {
    it('should store the session with its expiry and make the entry live as long as it when the first session is added', async () => {
      const store = new ControlledStore();
      await addToLogoutIndex(store, KEY, 'sid-1', NOW + 60_000, TIMEOUT_MS, NOW);
      expect(store.peek(KEY)).toEqual(indexEntry({ 'sid-1': NOW + 60_000 }, NOW + 60_000));
      await expect(readLogoutIndex(store, KEY, TIMEOUT_MS, NOW)).resolves.toEqual(['sid-1']);
    });

    it('should keep the entry until its longest-lived session and drop expired sessions when another is added', async () => {
      const store = new ControlledStore();
      await addToLogoutIndex(store, KEY, 'sid-old', NOW + 1_000, TIMEOUT_MS, NOW);
      await addToLogoutIndex(store, KEY, 'sid-long', NOW + 90_000, TIMEOUT_MS, NOW);
      await addToLogoutIndex(store, KEY, 'sid-short', NOW + 30_000, TIMEOUT_MS, NOW + 1_000);
      expect(store.peek(KEY)).toEqual({
        cookie: { expires: new Date(NOW + 90_000).toISOString(), originalMaxAge: 89_000 },
        oauthSessions: { 'sid-long': NOW + 90_000, 'sid-short': NOW + 30_000 },
      });
    });

    it('should give a browser-session login (no cookie expiry) a finite entry of INDEX_LIFETIME_WITHOUT_EXPIRY_MS', async () => {
      const store = new ControlledStore();
      await addToLogoutIndex(store, KEY, 'sid-1', NOW + 60_000, TIMEOUT_MS, NOW);
      await addToLogoutIndex(store, KEY, 'sid-2', undefined, TIMEOUT_MS, NOW);
      const until = NOW + INDEX_LIFETIME_WITHOUT_EXPIRY_MS;
      expect(store.peek(KEY)).toEqual(indexEntry({ 'sid-1': NOW + 60_000, 'sid-2': until }, until));
    });

    it('should list only sessions that have not expired at the injected now when read', async () => {
      const store = new ControlledStore();
      store.put(KEY, indexEntry({ 'sid-expired': NOW, 'sid-live': NOW + 1, 'sid-browser': 0 }, null));
      await expect(readLogoutIndex(store, KEY, TIMEOUT_MS, NOW)).resolves.toEqual(['sid-live', 'sid-browser']);
    });

    // Bug: the index entry is read, changed and written back in two store calls, so two logins
    // indexed under one key at the same time (one user on two devices: the `sub` entry) lose one
    // of the two sessions, and a back-channel logout for that user leaves it logged in.
    it.failing('should list both sessions when two logins add to the same entry concurrently', async () => {
      const store = new ControlledStore();
      store.hold();
      const a = store.as('login-a', () => addToLogoutIndex(store, KEY, 'sid-a', NOW + 60_000, TIMEOUT_MS, NOW));
      const b = store.as('login-b', () => addToLogoutIndex(store, KEY, 'sid-b', NOW + 60_000, TIMEOUT_MS, NOW));
      await store.complete({ actor: 'login-a', method: 'get' });
      await store.complete({ actor: 'login-b', method: 'get' });
      await store.complete({ actor: 'login-a', method: 'set' });
      await store.complete({ actor: 'login-b', method: 'set' });
      await Promise.all([a, b]);
      await store.open();
      await expect(readLogoutIndex(store, KEY, TIMEOUT_MS, NOW)).resolves.toEqual(['sid-a', 'sid-b']);
    });

    it('should read no sessions when the entry is missing or malformed', async () => {
      const store = new ControlledStore();
      store.put('bad', { cookie: {}, oauthSessions: 'sid-1' });
      await expect(readLogoutIndex(store, KEY, TIMEOUT_MS, NOW)).resolves.toEqual([]);
      await expect(readLogoutIndex(store, 'bad', TIMEOUT_MS, NOW)).resolves.toEqual([]);
    });
  });

  describe('logoutTokenSeen / recordLogoutToken', () => {
    it('should see a jti only once it is recorded (after its sessions ended), until the token expires', async () => {
      const store = new ControlledStore();
      const key = replayKey('https://op', 'jti-1');
      await expect(logoutTokenSeen(store, key, TIMEOUT_MS)).resolves.toBe(false);
      await recordLogoutToken(store, key, NOW + 120_000, TIMEOUT_MS, NOW);
      expect(store.peek(key)).toEqual({ cookie: { expires: new Date(NOW + 120_000).toISOString(), originalMaxAge: 120_000 }, oauthLogoutSeen: NOW });
      await expect(logoutTokenSeen(store, key, TIMEOUT_MS)).resolves.toBe(true);
      expect(store.log).toEqual([`get ${key}`, `set ${key}`, `get ${key}`]);
    });

    it('should keep the jti for at least 1 s when the token has already expired', async () => {
      const store = new ControlledStore();
      const key = replayKey('https://op', 'jti-2');
      await recordLogoutToken(store, key, NOW - 5_000, TIMEOUT_MS, NOW);
      expect(store.peek(key)).toMatchObject({ cookie: { originalMaxAge: 1_000 } });
    });
  });
});
