import type { Request } from 'express';
import type { LiveSession } from '../../lib/session/session-data';
import type { StoredMarker } from '../../lib/session/session-format';
import { SessionTracker } from '../../lib/session/session-tracker';
import { storeCall } from '../../lib/session/store-call';
import { recordKey, recordSlackMs, type TokenRecord } from '../../lib/session/token-record';
import { TokenRecords } from '../../lib/session/token-records';
import { sessionEndKey, writeTombstone } from '../../lib/session/tombstone';
import { ControlledStore, requestWithSession, unguardSessionSaves } from '../support/controlled-store';

// Fixtures: the one place to adapt when the stored shapes change.
const TIMEOUT_MS = 10_000;
const NOW = 1_700_000_000_000;
const MAX_AGE = 3_600_000;
const HTTP_APP = new Set(['http://app.test']);
const HTTPS_APP = new Set(['https://app.test']);
const DEADLINES = Symbol.for('express-oauth2-session.storeDeadlines');
const ORIGINAL_SAVE = Symbol.for('express-oauth2-session.originalSave');

function tokenRecord(v: number): TokenRecord {
  return { v, tokens: { accessToken: `access-${v}`, tokenType: 'bearer', expiresAt: NOW + 300_000 } };
}

/** A login marker as the session stores it (`at`: login time, `exp`: the record's expiry). */
function marker(extra: Partial<StoredMarker> = {}): StoredMarker {
  return { at: NOW - 60_000, sub: 'alice', ...extra };
}

/** `req.session.oauth` of a session logged in with these markers. */
function loggedInWith(markers: Record<string, StoredMarker>): Record<string, unknown> {
  return { p: markers };
}

function markerOf(req: Request, provider: string): StoredMarker | undefined {
  return (req.session as LiveSession).oauth?.p?.[provider];
}

function storedSession(cookie: Record<string, unknown> = {}, oauth?: Record<string, unknown>) {
  return { cookie: { originalMaxAge: MAX_AGE, expires: new Date(NOW + MAX_AGE).toISOString(), path: '/', httpOnly: true, ...cookie }, ...(oauth ? { oauth } : {}) };
}

function requestFor(store: ControlledStore, sessionId: string, cookie: Record<string, unknown> = {}, oauth?: Record<string, unknown>): Request {
  store.put(sessionId, storedSession(cookie, oauth));
  return requestWithSession(store, sessionId);
}

let warnings: jest.SpyInstance;
beforeEach(() => {
  jest.spyOn(Date, 'now').mockReturnValue(NOW);
  warnings = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
});
afterEach(() => {
  jest.restoreAllMocks();
  unguardSessionSaves();
});

function warningCodes(): unknown[] {
  return warnings.mock.calls.map(([, options]) => (options as { code?: string }).code);
}

describe('session-tracker', () => {
  describe('first request', () => {
    it('should give the store deadlines, guard session saves and remember the store when the first request has a session', async () => {
      const store = new ControlledStore();
      const req = requestFor(store, 'sid-1', {}, loggedInWith({ google: marker() }));
      const tracker = new SessionTracker(TIMEOUT_MS, HTTP_APP);
      tracker.observe(req);
      expect(Object.prototype.hasOwnProperty.call(store, DEADLINES)).toBe(true);
      expect((Object.getPrototypeOf(req.session) as Record<symbol, unknown>)[ORIGINAL_SAVE]).toEqual(expect.any(Function));
      expect(tracker.store).toBe(store);
      expect(warningCodes()).toEqual([]);
      // The guard at work: a logged-in session ended meanwhile is not written back.
      await writeTombstone(store, sessionEndKey('sid-1'), 600_000, TIMEOUT_MS, NOW);
      store.log.length = 0;
      await storeCall(TIMEOUT_MS, 'save', (cb) => req.session.save(cb));
      expect(store.log).toEqual(['get sid-1:oauth:ended']);
    });

    it('should set up only once when later requests arrive with another store', () => {
      const tracker = new SessionTracker(TIMEOUT_MS, HTTP_APP);
      const first = new ControlledStore();
      const second = new ControlledStore();
      tracker.observe(requestFor(first, 'sid-1', { sameSite: 'strict' }));
      tracker.observe(requestFor(second, 'sid-2', { sameSite: 'strict' }));
      expect(Object.prototype.hasOwnProperty.call(second, DEADLINES)).toBe(false);
      expect(tracker.store).toBe(first);
      expect(warningCodes()).toEqual(['OAUTH_COOKIE_SAMESITE']);
    });

    it.each([
      ['sameSite strict', HTTP_APP, { sameSite: 'strict' }, ['OAUTH_COOKIE_SAMESITE']],
      ['sameSite true', HTTP_APP, { sameSite: true }, ['OAUTH_COOKIE_SAMESITE']],
      ['an insecure cookie on an https app', HTTPS_APP, { secure: false }, ['OAUTH_COOKIE_INSECURE']],
      ['a secure lax cookie on an https app', HTTPS_APP, { secure: true, sameSite: 'lax' }, []],
    ])('should warn about %s when the first request has that cookie', (_what, origins, cookie, expected) => {
      new SessionTracker(TIMEOUT_MS, origins).observe(requestFor(new ControlledStore(), 'sid-1', cookie));
      expect(warningCodes()).toEqual(expected);
    });

    it('should warn that express-session is missing when the first request has neither session nor store', () => {
      const tracker = new SessionTracker(TIMEOUT_MS, HTTP_APP);
      tracker.observe({} as Request);
      expect(warningCodes()).toEqual(['OAUTH_NO_SESSION']);
      expect(tracker.store).toBeUndefined();
    });
  });

  describe('require', () => {
    it('should return the session when the request has one', () => {
      const req = requestFor(new ControlledStore(), 'sid-1');
      expect(new SessionTracker(TIMEOUT_MS, HTTP_APP).require(req)).toBe(req.session);
    });

    it.each([
      ['500 MIDDLEWARE_MISSING when no store was ever seen and the request has none', false, {}, 500, 'OAUTH_MIDDLEWARE_MISSING'],
      ['503 SESSION_UNAVAILABLE when the request has a store but no session', false, { sessionStore: new ControlledStore() }, 503, 'OAUTH_SESSION_UNAVAILABLE'],
      ['503 SESSION_UNAVAILABLE when a store was seen before and the request has nothing', true, {}, 503, 'OAUTH_SESSION_UNAVAILABLE'],
    ])('should throw %s', (_what, seenBefore, req, status, code) => {
      const tracker = new SessionTracker(TIMEOUT_MS, HTTP_APP);
      if (seenBefore) tracker.observe(requestFor(new ControlledStore(), 'sid-0'));
      expect(() => tracker.require(req as Request)).toThrow(expect.objectContaining({ status, code }));
    });
  });

  describe('record lifetime', () => {
    async function loggedIn(exp: number) {
      const store = new ControlledStore();
      await new TokenRecords(store, TIMEOUT_MS).write('sid-1', 'google', tokenRecord(1), { expires: new Date(exp) });
      const req = requestFor(store, 'sid-1', {}, loggedInWith({ google: marker({ exp }) }));
      store.log.length = 0;
      return { store, req };
    }

    it('should extend the record to session expiry plus slack when the session expiry comes within half the slack of it', async () => {
      const extended = NOW + MAX_AGE + recordSlackMs(MAX_AGE);
      const { store, req } = await loggedIn(NOW + MAX_AGE + recordSlackMs(MAX_AGE) / 2 - 1);
      new SessionTracker(TIMEOUT_MS, HTTP_APP).observe(req);
      expect(markerOf(req, 'google')?.exp).toBe(extended);
      await store.waiting();
      expect(store.log).toEqual(['get sid-1:oauth:google', 'touch sid-1:oauth:google']);
      expect(store.peek(recordKey('sid-1', 'google'))).toMatchObject({ cookie: { expires: new Date(extended).toISOString() } });
    });

    it('should not touch the store when the record outlives the session by at least half the slack', async () => {
      const exp = NOW + MAX_AGE + recordSlackMs(MAX_AGE) / 2;
      const { store, req } = await loggedIn(exp);
      new SessionTracker(TIMEOUT_MS, HTTP_APP).observe(req);
      await store.waiting();
      expect(store.log).toEqual([]);
      expect(markerOf(req, 'google')?.exp).toBe(exp);
    });
  });
});
