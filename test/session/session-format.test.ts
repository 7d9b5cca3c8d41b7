import { addTransaction, loginMarker, peekTransaction, setLoginMarker, storedMarker, takeAbandonedLogin, stateKey, type LiveSession } from '../../lib/session/session-data';
import {
  decodeAbandonedLogin,
  decodeLoginMarker,
  decodePendingLogin,
  decodeStepUp,
  encodeAbandonedLogin,
  encodeLoginMarker,
  encodePendingLogin,
  isStoredMarker,
  type LoginMarker,
  type PendingLogin,
  type StoredOAuthData,
} from '../../lib/session/session-format';

// The stored format of `req.session.oauth` (issue 20 #5): one-letter keys only inside lib/session/,
// byte for byte what earlier versions wrote, and every shape they wrote read back.
const AT = 1_796_217_846_697;
const V = 'v'.repeat(43);
const N = 'n'.repeat(43);

const json = (x: unknown) => JSON.stringify(x);
/** What a store hands back: the JSON round trip MemoryStore and connect-redis do. */
const viaStore = <T>(x: T): unknown => JSON.parse(json(x));

describe('pending logins', () => {
  const ordinary: PendingLogin = { provider: 'default', codeVerifier: V, nonce: N, returnTo: '/account', createdAt: AT };
  const stepUp: PendingLogin = { ...ordinary, maxAge: 120, stepUp: { scope: 'openid email drive', acrValues: 'mfa hwk', maxAge: 120 } };

  it('should write the keys and key order of every earlier version', () => {
    expect(json(encodePendingLogin(ordinary))).toBe(`{"p":"default","v":"${V}","n":"${N}","r":"/account","t":${AT}}`);
    expect(json(encodePendingLogin(stepUp))).toBe(`{"p":"default","v":"${V}","n":"${N}","r":"/account","t":${AT},"m":120,"u":{"s":"openid email drive","a":"mfa hwk","m":120}}`);
    expect(json(encodePendingLogin({ provider: 'github', returnTo: '/', createdAt: AT }))).toBe(`{"p":"github","r":"/","t":${AT}}`);
  });

  it.each<[string, PendingLogin]>([
    ['an ordinary OIDC login', ordinary],
    ['a step-up login', stepUp],
    ['an OAuth 2.0 login without PKCE or nonce', { provider: 'github', returnTo: '/', createdAt: AT }],
    ['a login asking max_age only', { ...ordinary, maxAge: 0 }],
    ['a step-up asking one thing', { ...ordinary, stepUp: { acrValues: 'mfa' } }],
  ])('should read back exactly what was written: %s', (_name, login) => {
    expect(decodePendingLogin(viaStore(encodePendingLogin(login)))).toEqual(login);
  });

  it.each<[string, unknown, PendingLogin]>([
    ['the first format (p, v, n, r, t)', { p: 'default', v: V, n: N, r: '/', t: AT }, { provider: 'default', codeVerifier: V, nonce: N, returnTo: '/', createdAt: AT }],
    ['with the step-up request (u)', { p: 'a', r: '/', t: AT, u: { s: 'x y' } }, { provider: 'a', returnTo: '/', createdAt: AT, stepUp: { scope: 'x y' } }],
    ['with max_age (m)', { p: 'a', r: '/', t: AT, m: 60 }, { provider: 'a', returnTo: '/', createdAt: AT, maxAge: 60 }],
    ['a malformed step-up field read as not asked', { p: 'a', r: '/', t: AT, u: { s: 5, a: 'mfa', m: '9' } }, { provider: 'a', returnTo: '/', createdAt: AT, stepUp: { acrValues: 'mfa' } }],
  ])('should read %s', (_name, stored, login) => {
    expect(decodePendingLogin(stored)).toEqual(login);
  });

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'p'],
    ['no provider', { r: '/', t: AT }],
    ['no returnTo', { p: 'a', t: AT }],
    ['no creation time', { p: 'a', r: '/' }],
    ['a creation time as a string', { p: 'a', r: '/', t: String(AT) }],
    ['max_age as a string', { p: 'a', r: '/', t: AT, m: '60' }],
    ['a verifier that is not a string', { p: 'a', r: '/', t: AT, v: 1 }],
    ['a nonce that is not a string', { p: 'a', r: '/', t: AT, n: {} }],
    ['a step-up request that is not an object', { p: 'a', r: '/', t: AT, u: 'mfa' }],
  ])('should read a malformed one (%s) as absent: it cannot complete', (_name, stored) => {
    expect(decodePendingLogin(stored)).toBeUndefined();
  });
});

describe('login markers', () => {
  const full: LoginMarker = {
    authenticatedAt: AT,
    sub: 'alice',
    claims: { email: 'alice@example.com', amr: ['pwd', 'otp'] },
    acr: 'mfa',
    authTime: 1_796_217_846,
    stepUp: { scope: 'openid drive', acrValues: 'mfa', maxAge: 300 },
    recordExpiresAt: AT + 86_400_000,
    sid: 'op-session-1',
  };

  it('should write at, sub, claims, acr, authTime, u, exp, sid (the order a login always wrote them)', () => {
    expect(json(encodeLoginMarker({ authenticatedAt: AT, sub: 'alice' }))).toBe(`{"at":${AT},"sub":"alice"}`);
    expect(json(encodeLoginMarker(full))).toBe(
      `{"at":${AT},"sub":"alice","claims":{"email":"alice@example.com","amr":["pwd","otp"]},"acr":"mfa","authTime":1796217846,"u":{"s":"openid drive","a":"mfa","m":300},"exp":${AT + 86_400_000},"sid":"op-session-1"}`,
    );
  });

  it.each<[string, LoginMarker]>([
    ['a login with every field', full],
    ['a login without an ID token', { authenticatedAt: AT }],
    ['a step-up login', { authenticatedAt: AT, sub: 's', stepUp: { maxAge: 0 } }],
  ])('should read back exactly what was written: %s', (_name, marker) => {
    expect(decodeLoginMarker(viaStore(encodeLoginMarker(marker)))).toEqual(marker);
  });

  it.each<[string, unknown, LoginMarker]>([
    ['the first format (sub, claims, at, exp)', { sub: 'a', claims: { name: 'A' }, at: AT, exp: AT + 1 }, { authenticatedAt: AT, sub: 'a', claims: { name: 'A' }, recordExpiresAt: AT + 1 }],
    ['with acr, authTime and the step-up request', { at: AT, acr: 'mfa', authTime: 9, u: { a: 'mfa' } }, { authenticatedAt: AT, acr: 'mfa', authTime: 9, stepUp: { acrValues: 'mfa' } }],
    ["with the provider's session id (backchannelLogout)", { at: AT, sub: 'a', sid: 'x' }, { authenticatedAt: AT, sub: 'a', sid: 'x' }],
    [
      'malformed fields as absent (a missing acr or auth_time fails step-up checks, never passes them)',
      { at: AT, sub: 5, claims: 'x', acr: 1, authTime: '9', u: 'mfa', exp: '1', sid: null },
      { authenticatedAt: AT },
    ],
  ])('should read %s', (_name, stored, marker) => {
    expect(decodeLoginMarker(stored)).toEqual(marker);
  });

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['a number', AT],
    ['no login time', { sub: 'alice' }],
    ['a login time as a string', { at: String(AT), sub: 'alice' }],
  ])('should read a malformed one (%s) as logged out', (_name, stored) => {
    expect([isStoredMarker(stored), decodeLoginMarker(stored)]).toEqual([false, undefined]);
  });
});

describe('abandoned logins', () => {
  it('should write p, r, t and read them back', () => {
    expect(json(encodeAbandonedLogin({ provider: 'default', returnTo: '/two', createdAt: AT }))).toBe(`{"p":"default","r":"/two","t":${AT}}`);
    expect(decodeAbandonedLogin({ p: 'default', r: '/two', t: AT })).toEqual({ provider: 'default', returnTo: '/two', createdAt: AT });
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['no provider', { r: '/', t: AT }],
    ['no returnTo', { p: 'a', t: AT }],
    ['a time as a string', { p: 'a', r: '/', t: 'now' }],
  ])('should read a malformed one (%s) as absent', (_name, stored) => {
    expect(decodeAbandonedLogin(stored)).toBeUndefined();
  });
});

describe('a step-up request', () => {
  it('should read only its well-typed fields, and nothing from a non-object', () => {
    expect([decodeStepUp({ s: 'a b', a: 7, m: 30 }), decodeStepUp(null), decodeStepUp('s')]).toEqual([{ scope: 'a b', maxAge: 30 }, undefined, undefined]);
  });
});

describe('the session operations on a stored session', () => {
  const sessionWith = (oauth: StoredOAuthData | undefined) => ({ cookie: { originalMaxAge: null }, oauth }) as unknown as LiveSession;

  it('should store a new pending login compactly and read it back decoded, until it is 10 minutes old', () => {
    const session = sessionWith(undefined);
    addTransaction(session, 'state-1', { provider: 'default', codeVerifier: V, returnTo: '/', createdAt: AT }, AT);
    expect(json(session.oauth)).toBe(`{"tx":{"state-1":{"p":"default","v":"${V}","r":"/","t":${AT}}}}`);
    expect(peekTransaction(session, 'state-1', AT + 599_999)).toEqual({ provider: 'default', codeVerifier: V, returnTo: '/', createdAt: AT });
    expect([peekTransaction(session, 'state-1', AT + 600_000), peekTransaction(session, 'other', AT)]).toEqual([undefined, undefined]);
  });

  it('should read a malformed pending login as absent', () => {
    const session = sessionWith({ tx: { s: { p: 'default', r: '/', t: AT, m: 'x' } as never } });
    expect(peekTransaction(session, 's', AT)).toBeUndefined();
  });

  it('should read the stored marker in place (no copy) and decoded, and store a new one compactly', () => {
    const stored = { at: AT, sub: 'alice', exp: AT + 5 };
    const session = sessionWith({ p: { default: stored } });
    expect(storedMarker(session, 'default')).toBe(stored);
    expect(loginMarker(session, 'default')).toEqual({ authenticatedAt: AT, sub: 'alice', recordExpiresAt: AT + 5 });
    expect([storedMarker(session, 'other'), loginMarker(sessionWith({ p: { default: { sub: 'x' } as never } }), 'default')]).toEqual([undefined, undefined]);
    setLoginMarker(session, 'github', { authenticatedAt: AT, stepUp: { scope: 'repo' } });
    expect(json(session.oauth?.p?.github)).toBe(`{"at":${AT},"u":{"s":"repo"}}`);
  });

  it('should take an abandoned login once, decoded, only while fresh', () => {
    const session = sessionWith({ x: { [stateKey('a')]: { p: 'default', r: '/one', t: AT }, [stateKey('b')]: { p: 'default', r: '/two', t: AT - 600_000 } } });
    expect(takeAbandonedLogin(session, 'a', AT)).toEqual({ provider: 'default', returnTo: '/one', createdAt: AT });
    expect([takeAbandonedLogin(session, 'a', AT), takeAbandonedLogin(session, 'b', AT)]).toEqual([undefined, undefined]);
    expect(session.oauth).toEqual({});
  });
});
