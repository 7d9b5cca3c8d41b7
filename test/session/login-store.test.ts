import type { Request } from 'express';
import type { DpopKey } from '../../lib/protocol/dpop';
import type { TokenSet } from '../../lib/protocol/token-set';
import { guardSessionSaves } from '../../lib/session/host-patches';
import { inProcessLock } from '../../lib/session/lock';
import { LoginStore, type NewLogin } from '../../lib/session/login-store';
import { addToLogoutIndex, logoutIndexKey, readLogoutIndex } from '../../lib/session/logout-index';
import { stateKey, TRANSACTION_TTL_MS, type LiveSession } from '../../lib/session/session-data';
import type { AbandonedLogin, PendingLogin, StoredAbandonedLogin, StoredMarker, StoredTransaction } from '../../lib/session/session-format';
import { storeCall } from '../../lib/session/store-call';
import { recordKey, recordSlackMs, type TokenRecord } from '../../lib/session/token-record';
import { TokenRecords } from '../../lib/session/token-records';
import { recordEndKey, sessionEndKey } from '../../lib/session/tombstone';
import { ControlledStore, requestWithSession, unguardSessionSaves, withSessions } from '../support/controlled-store';

// Fixtures: the one place to adapt when the stored shapes change.
const TIMEOUT_MS = 10_000;
const NOW = 1_700_000_000_000;
const MAX_AGE = 3_600_000;
const OLD = 'old-sid';
const NEW = 'new-sid';
/** The expiry of the new session's records and markers: session expiry plus slack. */
const RECORD_EXPIRY = NOW + MAX_AGE + recordSlackMs(MAX_AGE);
const DPOP_OLD: DpopKey = { kty: 'EC', crv: 'P-256', x: 'old-x', y: 'old-y', d: 'old-d' };
const DPOP_NEW: DpopKey = { kty: 'EC', crv: 'P-256', x: 'new-x', y: 'new-y', d: 'new-d' };

function tokens(name: string): TokenSet {
  return { accessToken: `access-${name}`, tokenType: 'bearer', refreshToken: `refresh-${name}`, expiresAt: NOW + 300_000 };
}

function tokenRecord(v: number, name: string, extra: Partial<TokenRecord> = {}): TokenRecord {
  return { v, tokens: tokens(name), ...extra };
}

/** A login marker as the session stores it (`at`: login time, `exp`: the record's expiry). */
function marker(extra: Partial<StoredMarker> = {}): StoredMarker {
  return { at: NOW - 60_000, ...extra };
}

/** A pending login as `LoginStore.begin` takes it. */
function pendingLogin(provider: string, createdAt: number, returnTo = '/after'): PendingLogin {
  return { provider, codeVerifier: 'verifier', nonce: 'nonce', returnTo, createdAt };
}

/** `pendingLogin(...)` as the session stores it. */
function storedTransaction(provider: string, createdAt: number, returnTo = '/after'): StoredTransaction {
  return { p: provider, v: 'verifier', n: 'nonce', r: returnTo, t: createdAt };
}

/** An abandoned login as `LoginStore.abandonedLogin` returns it. */
function abandonedLogin(provider: string, returnTo: string, createdAt: number): AbandonedLogin {
  return { provider, returnTo, createdAt };
}

/** `abandonedLogin(...)` as the session stores it. */
function storedAbandonedLogin(provider: string, returnTo: string, createdAt: number): StoredAbandonedLogin {
  return { p: provider, r: returnTo, t: createdAt };
}

/** `req.session.oauth` as stored: markers by provider, pending logins by state. */
function oauthData(markers: Record<string, StoredMarker>, pending?: Record<string, StoredTransaction>) {
  return { p: markers, ...(pending ? { tx: pending } : {}) };
}

type SavedOAuth = { p?: Record<string, StoredMarker>; tx?: unknown; x?: unknown };

function savedOAuth(store: ControlledStore, sessionId: string): { markers?: Record<string, StoredMarker>; pending?: unknown; abandoned?: unknown } {
  const data = store.peek<{ oauth?: SavedOAuth }>(sessionId)?.oauth;
  return { markers: data?.p, pending: data?.tx, abandoned: data?.x };
}

function storedSession(oauth: Record<string, unknown>) {
  return { cookie: { originalMaxAge: MAX_AGE, expires: new Date(NOW + 1000).toISOString(), httpOnly: true, path: '/' }, oauth };
}

function newLogin(extra: Partial<NewLogin> = {}): NewLogin {
  return { provider: 'google', tokens: tokens('new'), marker: { authenticatedAt: NOW, sub: 'alice' }, ...extra };
}

/** A session logged in with google (with a DPoP key) and github, one marker without a record (gitlab) and two pending logins. */
async function loggedInStore(): Promise<ControlledStore> {
  const store = withSessions(new ControlledStore(), { maxAge: MAX_AGE, ids: [NEW] });
  store.put(
    OLD,
    storedSession(
      oauthData(
        { google: marker({ sub: 'alice' }), github: marker({ sub: 'bob', exp: NOW + 1000 }), gitlab: marker({ sub: 'carol' }) },
        { 'state-tab2': storedTransaction('github', NOW - 1000, '/tab2'), 'state-stale': storedTransaction('google', NOW - TRANSACTION_TTL_MS) },
      ),
    ),
  );
  const records = new TokenRecords(store, TIMEOUT_MS);
  await records.write(OLD, 'google', tokenRecord(3, 'old-google', { dpop: DPOP_OLD }), { expires: null });
  await records.write(OLD, 'github', tokenRecord(7, 'github'), { expires: null });
  store.log.length = 0;
  return store;
}

beforeEach(() => {
  jest.spyOn(Date, 'now').mockReturnValue(NOW);
});
afterEach(() => {
  jest.restoreAllMocks();
  unguardSessionSaves();
});

describe('login-store', () => {
  describe('completeLogin', () => {
    async function complete({ indexLogins = false, login = newLogin() }: { indexLogins?: boolean; login?: NewLogin } = {}) {
      const store = await loggedInStore();
      const req = requestWithSession(store, OLD);
      const result = await new LoginStore(TIMEOUT_MS, inProcessLock, indexLogins).completeLogin(req, login);
      return { store, req, result };
    }

    it('should regenerate the session id and return the previous login of the same provider with its DPoP key and subject', async () => {
      const { req, result } = await complete();
      expect(result).toEqual({ sessionId: NEW, previous: { tokens: tokens('old-google'), dpop: DPOP_OLD, sub: 'alice' } });
      expect(req.session.id).toBe(NEW);
    });

    it('should tombstone the old session and every old record and leave none of them when the login completes', async () => {
      const { store } = await complete();
      expect(store.keys()).toEqual([
        'new-sid',
        'new-sid:oauth:github',
        'new-sid:oauth:google',
        sessionEndKey(OLD),
        recordEndKey(recordKey(OLD, 'github')),
        recordEndKey(recordKey(OLD, 'gitlab')),
        recordEndKey(recordKey(OLD, 'google')),
      ]);
    });

    it("should move the other providers' records with their markers and drop a marker whose record is gone", async () => {
      const { store } = await complete();
      expect(store.peek(recordKey(NEW, 'github'))).toEqual({ cookie: { expires: new Date(RECORD_EXPIRY).toISOString() }, t: { v: 7, a: 'access-github', r: 'refresh-github', e: NOW + 300_000 } });
      expect(savedOAuth(store, NEW).markers).toEqual({
        github: marker({ sub: 'bob', exp: RECORD_EXPIRY }),
        google: { at: NOW, sub: 'alice', exp: RECORD_EXPIRY },
      });
    });

    it('should write the new login as version 1 with its DPoP key when it has one', async () => {
      const { store } = await complete({ login: newLogin({ dpop: DPOP_NEW }) });
      await expect(new TokenRecords(store, TIMEOUT_MS).read(NEW, 'google')).resolves.toEqual({ v: 1, tokens: tokens('new'), dpop: DPOP_NEW });
    });

    it('should turn fresh pending transactions into abandoned logins and drop stale ones', async () => {
      const { store, req } = await complete();
      const saved = savedOAuth(store, NEW);
      expect(saved.pending).toBeUndefined();
      expect(saved.abandoned).toEqual({ [stateKey('state-tab2')]: storedAbandonedLogin('github', '/tab2', NOW - 1000) });
      const loginStore = new LoginStore(TIMEOUT_MS, inProcessLock);
      expect(loginStore.abandonedLogin(req, 'state-tab2')).toEqual(abandonedLogin('github', '/tab2', NOW - 1000));
      expect(loginStore.abandonedLogin(req, 'state-tab2')).toBeUndefined();
    });

    it('should write back-channel index entries for every login and keep the sid in the marker when indexLogins is on', async () => {
      const { store } = await complete({ indexLogins: true, login: newLogin({ sid: 'op-session' }) });
      const index = (provider: string, kind: 'sid' | 'sub', value: string) => readLogoutIndex(store, logoutIndexKey(provider, { kind, value }), TIMEOUT_MS, NOW);
      await expect(index('google', 'sid', 'op-session')).resolves.toEqual([NEW]);
      await expect(index('google', 'sub', 'alice')).resolves.toEqual([NEW]);
      await expect(index('github', 'sub', 'bob')).resolves.toEqual([NEW]);
      expect(store.peek(logoutIndexKey('google', { kind: 'sid', value: 'op-session' }))).toEqual({
        cookie: { expires: new Date(RECORD_EXPIRY).toISOString(), originalMaxAge: RECORD_EXPIRY - NOW },
        oauthSessions: { [NEW]: RECORD_EXPIRY },
      });
      expect(savedOAuth(store, NEW).markers?.google).toEqual({ at: NOW, sub: 'alice', exp: RECORD_EXPIRY, sid: 'op-session' });
    });

    it('should write no index entry and no sid when indexLogins is off', async () => {
      const { store } = await complete({ login: newLogin({ sid: 'op-session' }) });
      expect(store.keys().filter((k) => k.startsWith('oauth-bcl:'))).toEqual([]);
      expect(savedOAuth(store, NEW).markers?.google?.sid).toBeUndefined();
    });

    it('should return no previous tokens when the session had no login with that provider', async () => {
      const { result } = await complete({ login: newLogin({ provider: 'azure' }) });
      expect(result).toEqual({ sessionId: NEW, previous: undefined });
    });

    it('should not let a request still holding the pre-login session write it back after the login completed', async () => {
      const store = await loggedInStore();
      const inFlight = requestWithSession(store, OLD);
      guardSessionSaves(inFlight.session, TIMEOUT_MS);
      await new LoginStore(TIMEOUT_MS, inProcessLock).completeLogin(requestWithSession(store, OLD), newLogin());
      await storeCall(TIMEOUT_MS, 'save', (cb) => inFlight.session.save(cb));
      expect(store.has(OLD)).toBe(false);
    });
  });

  describe('begin', () => {
    it('should save the transaction and limit a pending-only session to the transaction lifetime', async () => {
      const store = withSessions(new ControlledStore(), { maxAge: MAX_AGE });
      store.put('anon', { cookie: { originalMaxAge: MAX_AGE, expires: new Date(NOW + MAX_AGE).toISOString() } });
      await new LoginStore(TIMEOUT_MS, inProcessLock).begin(requestWithSession(store, 'anon'), 'state-1', pendingLogin('google', NOW));
      expect(store.log).toEqual(['set anon']);
      expect(store.peek('anon')).toMatchObject({ cookie: { originalMaxAge: TRANSACTION_TTL_MS, expires: new Date(NOW + TRANSACTION_TTL_MS).toISOString() } });
      expect(savedOAuth(store, 'anon').pending).toEqual({ 'state-1': storedTransaction('google', NOW) });
    });
  });

  describe('endSession', () => {
    it('should tombstone then destroy the session and return its cookie to clear', async () => {
      const store = await loggedInStore();
      const req = requestWithSession(store, OLD);
      req.headers.cookie = `theme=dark; app.sid=${encodeURIComponent(`s:${OLD}.signature`)}`;
      const cookie = await new LoginStore(TIMEOUT_MS, inProcessLock).endSession(req);
      expect(store.log).toEqual([`set ${sessionEndKey(OLD)}`, `destroy ${OLD}`]);
      expect(cookie).toEqual({ name: 'app.sid', options: { path: '/', secure: false, httpOnly: true } });
      expect(req.session).toBeUndefined();
    });
  });

  describe('adoptSession', () => {
    it('should load the session the completed login produced into this request when it exists', async () => {
      const store = await loggedInStore();
      const req = requestWithSession(store, OLD);
      store.put(NEW, storedSession(oauthData({ google: marker() })));
      await expect(new LoginStore(TIMEOUT_MS, inProcessLock).adoptSession(req, NEW)).resolves.toBe(true);
      expect([req.sessionID, req.session.id, (req.session as LiveSession).oauth]).toEqual([NEW, NEW, oauthData({ google: marker() })]);
      await expect(new LoginStore(TIMEOUT_MS, inProcessLock).adoptSession(req, 'missing')).resolves.toBe(false);
    });
  });

  describe('endSessionsOf (back-channel logout)', () => {
    async function indexed() {
      const store = new ControlledStore();
      const records = new TokenRecords(store, TIMEOUT_MS);
      store.put('s-match', storedSession(oauthData({ google: marker({ sub: 'alice', sid: 'op-1' }), github: marker({ sub: 'bob' }) })));
      store.put('s-stale', storedSession(oauthData({ google: marker({ sub: 'alice', sid: 'op-2' }) })));
      await records.write('s-match', 'google', tokenRecord(2, 'm-google', { dpop: DPOP_OLD }), { expires: null });
      await records.write('s-match', 'github', tokenRecord(4, 'm-github'), { expires: null });
      await records.write('s-stale', 'google', tokenRecord(1, 's-google'), { expires: null });
      const key = logoutIndexKey('google', { kind: 'sid', value: 'op-1' });
      for (const id of ['s-match', 's-stale', 's-gone']) await addToLogoutIndex(store, key, id, undefined, TIMEOUT_MS, NOW);
      return store;
    }

    it("should end only that provider's login in an indexed session that has others, and keep the session and the other login", async () => {
      const store = await indexed();
      const req = { sessionStore: store } as unknown as Request;
      const ended = await new LoginStore(TIMEOUT_MS, inProcessLock, true).backchannel.endSessionsOf(req, 'google', { sid: 'op-1' });
      expect(ended).toEqual([{ sessionId: 's-match', provider: 'google', ended: { tokens: tokens('m-google'), dpop: DPOP_OLD } }]);
      expect(Object.keys((store.peek('s-match') as { oauth: { p: object } }).oauth.p)).toEqual(['github']);
      expect(store.has(recordKey('s-match', 'google'))).toBe(false);
      expect(store.has(recordKey('s-match', 'github'))).toBe(true);
      expect(store.has(sessionEndKey('s-match'))).toBe(false);
      expect(store.has(recordKey('s-stale', 'google'))).toBe(true);
    });

    it('should end every indexed session whose login still matches and return all its logins for revocation (endSession)', async () => {
      const store = await indexed();
      const req = { sessionStore: store } as unknown as Request;
      const ended = await new LoginStore(TIMEOUT_MS, inProcessLock, true).backchannel.endSessionsOf(req, 'google', { sid: 'op-1' }, true);
      expect(ended).toEqual([
        { sessionId: 's-match', provider: 'google', ended: { tokens: tokens('m-google'), dpop: DPOP_OLD } },
        { sessionId: 's-match', provider: 'github', ended: { tokens: tokens('m-github') } },
      ]);
      expect(store.has('s-match')).toBe(false);
      expect(store.has(sessionEndKey('s-match'))).toBe(true);
      expect(store.has(recordKey('s-match', 'google'))).toBe(false);
      expect(store.has('s-stale')).toBe(true);
      expect(store.has(recordKey('s-stale', 'google'))).toBe(true);
    });

    it("should see a logout token's jti only after it was recorded, per issuer", async () => {
      const store = new ControlledStore();
      const req = { sessionStore: store } as unknown as Request;
      const { backchannel } = new LoginStore(TIMEOUT_MS, inProcessLock, true);
      await expect(backchannel.logoutTokenSeen(req, 'https://op', 'jti-1')).resolves.toBe(false);
      await backchannel.recordLogoutToken(req, 'https://op', 'jti-1', NOW + 60_000);
      await expect(backchannel.logoutTokenSeen(req, 'https://op', 'jti-1')).resolves.toBe(true);
      await expect(backchannel.logoutTokenSeen(req, 'https://other-op', 'jti-1')).resolves.toBe(false);
    });
  });
});
