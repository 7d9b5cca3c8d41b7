import { decodeRecord, encodeRecord, withIdToken, type StoredRecord, type TokenRecord } from '../../lib/session/record-format';

// The token record's stored format (issue 15 #3): compact, every earlier format still read.
const EXPIRES = new Date('2026-12-03T14:24:06.713Z');
const ISSUED = 1_796_217_846_697;
const A = 'a'.repeat(43);
const R = 'r'.repeat(43);
const NONCE = 'n'.repeat(43);
const ID_TOKEN = `${'h'.repeat(36)}.${'p'.repeat(216)}.${'s'.repeat(342)}`; // 596 chars, as the test provider's

/** A typical OIDC login: opaque 43-char tokens, one hour, three scopes, the ID token's claims kept. */
const typical: TokenRecord = {
  v: 1,
  tokens: { accessToken: A, tokenType: 'bearer', refreshToken: R, expiresAt: ISSUED + 3_600_000, issuedAt: ISSUED, scope: 'openid profile email' },
  idTokenClaims: { iss: 'http://127.0.0.1:43889', sub: 'alice', nonce: NONCE },
};

const json = (x: unknown) => JSON.stringify(x);
/** What a store hands back: the JSON round trip MemoryStore and connect-redis do. */
const stored = (x: StoredRecord) => JSON.parse(json(x)) as StoredRecord;

describe('encodeRecord', () => {
  it("should write one-letter keys, no default token type, the lifetime instead of issuedAt, and only the cookie's expiry", () => {
    const out = json(encodeRecord(typical, { expires: EXPIRES, originalMaxAge: 86_400_000 }));
    expect(out).toBe(
      `{"cookie":{"expires":"2026-12-03T14:24:06.713Z"},"t":{"v":1,"a":"${A}","r":"${R}","e":1796221446697,"l":3600000,"s":"openid profile email","o":{"iss":"http://127.0.0.1:43889","sub":"alice","nonce":"${NONCE}"}}}`,
    );
    expect(out.length).toBe(323);
  });

  it('should take 821 characters with the raw ID token kept instead of the claims, against 941 in the first format', () => {
    const raw: TokenRecord = { v: 1, tokens: { ...typical.tokens, idToken: ID_TOKEN } };
    const first = { cookie: { expires: EXPIRES, originalMaxAge: 86_400_000 }, oauthTokens: raw };
    expect([json(encodeRecord(raw, { expires: EXPIRES })).length, json(first).length]).toEqual([821, 941]);
  });

  it("should keep a browser-session record without expiry (the store's own TTL applies)", () => {
    expect(encodeRecord({ v: 3, tokens: { accessToken: 'x', tokenType: 'bearer' } }, { expires: null, originalMaxAge: null })).toEqual({ cookie: { expires: null }, t: { v: 3, a: 'x' } });
  });
});

describe('decodeRecord', () => {
  it.each<[string, TokenRecord]>([
    ['a typical OIDC login', typical],
    ['the raw ID token kept', { v: 2, tokens: { ...typical.tokens, idToken: ID_TOKEN } }],
    ['no expiry, no refresh token, no scope', { v: 1, tokens: { accessToken: A, tokenType: 'bearer' } }],
    ['a token made expired by hand (expiresAt before issuedAt)', { v: 4, tokens: { accessToken: A, tokenType: 'bearer', expiresAt: ISSUED - 1000, issuedAt: ISSUED } }],
    ['issuedAt without expiresAt', { v: 1, tokens: { accessToken: A, tokenType: 'bearer', issuedAt: ISSUED } }],
    ['another token type', { v: 1, tokens: { accessToken: A, tokenType: 'dpop' } }],
    ['claims with auth_time', { v: 1, tokens: { accessToken: A, tokenType: 'bearer' }, idTokenClaims: { iss: 'https://as', sub: 's', auth_time: 1_796_217_000 } }],
  ])('should read back exactly what was written: %s', (_name, record) => {
    expect(decodeRecord(stored(encodeRecord(record, { expires: EXPIRES })))).toEqual(record);
  });

  it('should read the first format (`oauthTokens`) as it was', () => {
    const first = { v: 7, tokens: { ...typical.tokens, idToken: ID_TOKEN } };
    expect(decodeRecord(stored({ cookie: { expires: EXPIRES, originalMaxAge: 86_400_000 }, oauthTokens: first }))).toEqual(first);
  });

  it.each<[string, unknown]>([
    ['nothing', null],
    ['a string', 'x'],
    ['neither format', { cookie: {} }],
    ['no version', { cookie: {}, t: { a: 'x' } }],
    ['no access token', { cookie: {}, t: { v: 1 } }],
    ['a numeric access token', { cookie: {}, t: { v: 1, a: 1 } }],
    ['a first-format record without a version', { cookie: {}, oauthTokens: { tokens: { accessToken: 'x' } } }],
    ['a first-format record without an access token', { cookie: {}, oauthTokens: { v: 1, tokens: {} } }],
  ])('should read %s as no record', (_name, value) => {
    expect(decodeRecord(value as StoredRecord)).toBeUndefined();
  });

  it('should drop fields of the wrong type and claims without iss or sub', () => {
    const t = { v: 1, a: 'x', y: 5, r: 6, e: '1', l: '2', s: 7, d: 8, o: { sub: 's' } };
    expect(decodeRecord({ cookie: {}, t } as never)).toEqual({ v: 1, tokens: { accessToken: 'x', tokenType: 'bearer' } });
    const claims = { iss: 'i', sub: 's', auth_time: '1', nonce: 2, extra: true };
    expect(decodeRecord({ cookie: {}, t: { v: 1, a: 'x', o: claims } } as never)?.idTokenClaims).toEqual({ iss: 'i', sub: 's' });
  });
});

describe('withIdToken', () => {
  const claims = { iss: 'i', sub: 's' };
  it('should keep the raw ID token given, and then no claims', () => {
    expect(withIdToken({ accessToken: A, tokenType: 'bearer', idToken: 'old' }, 'new', claims)).toEqual({ tokens: { accessToken: A, tokenType: 'bearer', idToken: 'new' } });
  });

  it('should keep only the claims without a raw ID token', () => {
    expect(withIdToken({ accessToken: A, tokenType: 'bearer', idToken: 'old' }, undefined, claims)).toEqual({ tokens: { accessToken: A, tokenType: 'bearer' }, idTokenClaims: claims });
  });

  it('should keep neither when there is no verified claim', () => {
    expect(withIdToken({ accessToken: A, tokenType: 'bearer', idToken: 'unverified' }, undefined, undefined)).toEqual({ tokens: { accessToken: A, tokenType: 'bearer' } });
  });
});
