import type { Request } from 'express';
import type { DpopKey } from '../../lib/protocol/dpop';
import { loadStoredLoginSession, RequestLoginSession } from '../../lib/session/login-session';
import type { LiveSession } from '../../lib/session/session-data';
import type { LoginMarker, StoredMarker } from '../../lib/session/session-format';
import { recordKey, recordSlackMs, type TokenRecord } from '../../lib/session/token-record';
import { TokenRecords } from '../../lib/session/token-records';
import { recordEndKey } from '../../lib/session/tombstone';
import { ControlledStore, requestWithSession, withSessions } from '../support/controlled-store';

// Fixtures: the one place to adapt when the stored shapes change.
const TIMEOUT_MS = 10_000;
const NOW = 1_700_000_000_000;
const SID = 'sid-1';
const PROVIDER = 'google';
const KEY = recordKey(SID, PROVIDER);
const MAX_AGE = 3_600_000;
const SESSION_EXPIRES = NOW + MAX_AGE;
const MARKER_EXP = NOW + 7_200_000;
const DPOP: DpopKey = { kty: 'EC', crv: 'P-256', x: 'key-x', y: 'key-y', d: 'key-d' };

function tokenRecord(v: number, extra: Partial<TokenRecord> = {}): TokenRecord {
  return { v, tokens: { accessToken: `access-${v}`, tokenType: 'bearer', refreshToken: `refresh-${v}`, expiresAt: NOW + 300_000 }, ...extra };
}

/** A login marker as the session stores it (`at`: login time, `exp`: the record's expiry). */
function marker(extra: Partial<StoredMarker> = {}): StoredMarker {
  return { at: NOW - 1000, sub: 'alice', ...extra };
}

/** `marker(extra)` as `LoginSession.marker` returns it (decoded). */
function decodedMarker(extra: Partial<LoginMarker> = {}): LoginMarker {
  return { authenticatedAt: NOW - 1000, sub: 'alice', ...extra };
}

/** A stored session logged in with `markers`; `maxAge` null: a browser-session cookie. */
function storedSession(markers: Record<string, StoredMarker>, maxAge: number | null = MAX_AGE) {
  const cookie = maxAge === null ? { originalMaxAge: null, expires: null } : { originalMaxAge: maxAge, expires: new Date(SESSION_EXPIRES).toISOString() };
  return { cookie: { ...cookie, httpOnly: true, path: '/' }, oauth: { p: markers } };
}

function markersOf(req: Request): Record<string, StoredMarker> | undefined {
  return (req.session as LiveSession).oauth?.p;
}

async function setUp(markers: Record<string, StoredMarker> = { [PROVIDER]: marker() }, maxAge: number | null = MAX_AGE) {
  const store = withSessions(new ControlledStore(), { maxAge: MAX_AGE, ids: ['sid-2'] });
  store.put(SID, storedSession(markers, maxAge));
  await new TokenRecords(store, TIMEOUT_MS).write(SID, PROVIDER, tokenRecord(1, { dpop: DPOP }), { expires: new Date(MARKER_EXP) });
  store.log.length = 0;
  const req = requestWithSession(store, SID);
  return { store, req, login: new RequestLoginSession(req, TIMEOUT_MS) };
}

function storedExpiry(store: ControlledStore, key: string): unknown {
  return store.peek<{ cookie: { expires: unknown } }>(key)?.cookie.expires;
}

describe('login-session', () => {
  describe('RequestLoginSession', () => {
    it('should read the login record of the request session when asked for its tokens', async () => {
      const { store, login } = await setUp();
      await expect(login.readTokens(PROVIDER)).resolves.toEqual(tokenRecord(1, { dpop: DPOP }));
      expect(store.log).toEqual([`get ${KEY}`]);
      expect(login.loginKey(PROVIDER)).toBe(KEY);
    });

    it('should keep the marker exp as the record expiry when a refresh is committed', async () => {
      const { store, login } = await setUp({ [PROVIDER]: marker({ exp: MARKER_EXP }) });
      await expect(login.commitRefresh(PROVIDER, tokenRecord(2))).resolves.toEqual({ kind: 'committed' });
      expect(storedExpiry(store, KEY)).toBe(new Date(MARKER_EXP).toISOString());
      await expect(login.readTokens(PROVIDER)).resolves.toEqual(tokenRecord(2));
    });

    it('should use the session expiry plus slack as the record expiry when the marker has no exp', async () => {
      const { store, login } = await setUp();
      await login.commitRefresh(PROVIDER, tokenRecord(2));
      expect(storedExpiry(store, KEY)).toBe(new Date(SESSION_EXPIRES + recordSlackMs(MAX_AGE)).toISOString());
      expect(recordSlackMs(MAX_AGE)).toBe(360_000);
    });

    it('should store no record expiry when the session cookie is a browser-session cookie and the marker has no exp', async () => {
      const { store, login } = await setUp({ [PROVIDER]: marker() }, null);
      await login.commitRefresh(PROVIDER, tokenRecord(2));
      expect(storedExpiry(store, KEY)).toBeNull();
    });

    it('should delete the record and keep the marker when the tokens are forgotten', async () => {
      const { store, req, login } = await setUp();
      await login.forgetTokens(PROVIDER);
      expect(store.log).toEqual([`destroy ${KEY}`]);
      expect(markersOf(req)).toEqual({ [PROVIDER]: marker() });
    });

    it('should tombstone and delete the record, clear the marker and return the tokens with the DPoP key when the login ends', async () => {
      const { store, req, login } = await setUp({ [PROVIDER]: marker(), github: marker({ sub: 'bob' }) });
      await expect(login.endLogin(PROVIDER)).resolves.toEqual({ tokens: tokenRecord(1).tokens, dpop: DPOP });
      expect(store.log).toEqual([`set ${recordEndKey(KEY)}`, `get ${KEY}`, `destroy ${KEY}`]);
      expect(store.peek(recordEndKey(KEY))).toMatchObject({ cookie: { originalMaxAge: MAX_AGE } }); // tombstoneTtlMs: as long as the session (1 h)
      expect(markersOf(req)).toEqual({ github: marker({ sub: 'bob' }) });
      expect(login.marker(PROVIDER)).toBeUndefined();
    });

    it('should undo a refresh committed after the login ended', async () => {
      const { store, login } = await setUp();
      await login.endLogin(PROVIDER);
      await expect(login.commitRefresh(PROVIDER, tokenRecord(2))).resolves.toEqual({ kind: 'ended' });
      expect(store.has(KEY)).toBe(false);
    });

    it('should return undefined without any store call when the session has no login with that provider', async () => {
      const { store, login } = await setUp();
      await expect(login.endLogin('github')).resolves.toBeUndefined();
      expect(store.log).toEqual([]);
    });

    it('should follow the regenerated session id when req.session is regenerated', async () => {
      const { req, login } = await setUp();
      expect(login.sessionId).toBe(SID);
      await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
      expect(login.sessionId).toBe('sid-2');
      expect(login.loginKey(PROVIDER)).toBe('sid-2:oauth:google');
    });

    it.each([
      ['503 SESSION_UNAVAILABLE', { sessionStore: new ControlledStore() }, 503, 'OAUTH_SESSION_UNAVAILABLE'],
      ['500 MIDDLEWARE_MISSING', {}, 500, 'OAUTH_MIDDLEWARE_MISSING'],
    ])('should throw %s when the request has no session', (_what, req, status, code) => {
      const login = new RequestLoginSession(req as unknown as Request, TIMEOUT_MS);
      expect(() => login.assertAvailable()).toThrow(expect.objectContaining({ status, code }));
    });
  });

  describe('loadStoredLoginSession', () => {
    it('should return undefined when the store has no such session', async () => {
      const store = new ControlledStore();
      await expect(loadStoredLoginSession(store, 'nope', TIMEOUT_MS)).resolves.toBeUndefined();
      expect(store.log).toEqual(['get nope']);
    });

    it('should read the markers and records of the stored session when it exists', async () => {
      const { store } = await setUp({ [PROVIDER]: marker({ exp: MARKER_EXP }) });
      const stored = (await loadStoredLoginSession(store, SID, TIMEOUT_MS))!;
      expect(stored.sessionId).toBe(SID);
      expect(stored.marker(PROVIDER)).toEqual(decodedMarker({ recordExpiresAt: MARKER_EXP }));
      expect(() => stored.assertAvailable()).not.toThrow();
      await expect(stored.readTokens(PROVIDER)).resolves.toEqual(tokenRecord(1, { dpop: DPOP }));
      await stored.commitRefresh(PROVIDER, tokenRecord(2));
      expect(storedExpiry(store, KEY)).toBe(new Date(MARKER_EXP).toISOString());
    });

    it('should use the stored session expiry plus slack when the marker has no exp', async () => {
      const { store } = await setUp();
      const stored = (await loadStoredLoginSession(store, SID, TIMEOUT_MS))!;
      await stored.commitRefresh(PROVIDER, tokenRecord(2));
      expect(storedExpiry(store, KEY)).toBe(new Date(SESSION_EXPIRES + recordSlackMs(MAX_AGE)).toISOString());
    });

    it('should end the login in the store but change the marker only in its copy when the login ends', async () => {
      const { store } = await setUp();
      const before = store.peek(SID);
      const stored = (await loadStoredLoginSession(store, SID, TIMEOUT_MS))!;
      await expect(stored.endLogin(PROVIDER)).resolves.toEqual({ tokens: tokenRecord(1).tokens, dpop: DPOP });
      expect(stored.marker(PROVIDER)).toBeUndefined();
      expect(store.has(KEY)).toBe(false);
      expect(store.has(recordEndKey(KEY))).toBe(true);
      expect(store.peek(SID)).toEqual(before);
    });
  });
});
