import { apiTokenKey, exchangeTokenKey, resourceTokenKey } from '../../lib/client/api-grants';
import { resolveConfig } from '../../lib/config/resolve';
import { decodeRecord, encodeRecord, type StoredRecord, type TokenRecord } from '../../lib/session/record-format';

// Per-API tokens in the login's token record (issue 21, SPEC §10: ≤ the token's length + 64 B each).
const EXPIRES = new Date('2026-12-03T14:24:06.713Z');
const ISSUED = 1_796_217_846_697;
const A = 'a'.repeat(43);
const R = 'r'.repeat(43);
const API_TOKEN = `${'h'.repeat(36)}.${'p'.repeat(300)}.${'s'.repeat(342)}`; // a JWT access token
const base: TokenRecord = { v: 1, tokens: { accessToken: A, tokenType: 'bearer', refreshToken: R, expiresAt: ISSUED + 3_600_000, issuedAt: ISSUED, scope: 'openid profile email orders:read' } };
const json = (x: unknown) => JSON.stringify(x);
const stored = (x: StoredRecord) => JSON.parse(json(x)) as StoredRecord;
const key = resourceTokenKey('default', 'https://orders.api.test/', ['orders:read']);

describe('per-API tokens in the token record', () => {
  it('should add at most the token length + 64 characters per extra API token (key, expiry, lifetime; the scope only when not the one asked)', () => {
    const token = { accessToken: API_TOKEN, tokenType: 'bearer', expiresAt: ISSUED + 300_000, issuedAt: ISSUED };
    const one: TokenRecord = { ...base, apis: { [key]: token } };
    const two: TokenRecord = { ...base, apis: { [key]: token, ['k'.repeat(16)]: { ...token, accessToken: API_TOKEN.replace('h', 'H') } } };
    const size = (r: TokenRecord) => json(encodeRecord(r, { expires: EXPIRES })).length;
    expect(size(two) - size(one) - API_TOKEN.length).toBe(57);
    expect(size(one) - size(base) - API_TOKEN.length).toBe(63);
    expect(json(encodeRecord(one, { expires: EXPIRES }).t!.p)).toBe(`{"${key}":{"a":"${API_TOKEN}","e":1796218146697,"l":300000}}`);
  });

  it('should read back exactly what was written, DPoP-bound and unexpiring tokens included', () => {
    const record: TokenRecord = {
      ...base,
      apis: {
        [key]: { accessToken: API_TOKEN, tokenType: 'bearer', expiresAt: ISSUED + 300_000, issuedAt: ISSUED, scope: 'orders:read' },
        other: { accessToken: 'b'.repeat(20), tokenType: 'dpop' },
      },
    };
    expect(decodeRecord(stored(encodeRecord(record, { expires: EXPIRES })))).toEqual(record);
  });

  it('should skip malformed per-API entries and keep the login', () => {
    const out = stored(encodeRecord(base, { expires: EXPIRES }));
    (out.t as unknown as { p: unknown }).p = { k1: { a: 42 }, k2: null, k3: { a: 'ok', e: 'soon' } };
    expect(decodeRecord(out)).toEqual({ ...base, apis: { k3: { accessToken: 'ok', tokenType: 'bearer' } } });
  });
});

describe('per-API token keys (never the refresh token alone: Duende CVE-2025-26620)', () => {
  it('should differ by provider, resource, scope and grant, and be 16 characters', () => {
    const keys = [
      resourceTokenKey('default', 'https://orders.api.test/', ['orders:read']),
      resourceTokenKey('github', 'https://orders.api.test/', ['orders:read']),
      resourceTokenKey('default', 'https://billing.api.test/', ['orders:read']),
      resourceTokenKey('default', 'https://orders.api.test/', ['orders:write']),
      resourceTokenKey('default', 'https://orders.api.test/', []),
      exchangeTokenKey('default', { resource: 'https://orders.api.test/', scope: ['orders:read'] }),
      exchangeTokenKey('default', { audience: 'https://orders.api.test/', scope: ['orders:read'] }),
      exchangeTokenKey('default', { audience: 'https://orders.api.test/', scope: ['orders:read'], subjectToken: 'other-subject' }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    for (const k of keys) expect(k).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });

  it('should give two APIs with the same provider, resource and scope the same key (the same token)', () => {
    const config = resolveConfig({
      clientId: 'app',
      clientSecret: 's',
      authorizationUrl: 'https://as.example/auth',
      tokenUrl: 'https://as.example/token',
      redirectUri: 'https://app.example/callback',
      apis: { a: { url: 'https://a.example/v1', resource: 'https://api.example/', scope: 'x' }, b: { url: 'https://a.example/v2', resource: 'https://api.example/', scope: ['x'] } },
    });
    expect(apiTokenKey(config.apis.get('a')!)).toBe(apiTokenKey(config.apis.get('b')!));
  });
});
