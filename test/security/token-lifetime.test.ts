import request from 'supertest';
import { fromTokenResponse, isExpiring, MAX_LIFETIME_SECONDS, type TokenSet } from '../../lib/protocol/token-set';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { login } from '../support/login-flow';
import { startResourceServer, type ResourceServer } from '../support/resource-server';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';

// Issue 13 #6: absurd expires_in values and lifetimes at or below refreshLeewaySeconds.
const NOW = 1_700_000_000_000;
const YEAR_MS = MAX_LIFETIME_SECONDS * 1000;
const token = (extra: Record<string, unknown>) => fromTokenResponse({ access_token: 'at', token_type: 'Bearer', ...extra }, NOW);

describe('expires_in clamping', () => {
  it.each([
    ['1e308 (its milliseconds overflow to Infinity)', 1e308],
    ['Infinity (JSON 1e309)', JSON.parse('{"e":1e309}').e as number],
    ['a 400-digit string', '9'.repeat(400)],
    ['one year + 1 s', MAX_LIFETIME_SECONDS + 1],
  ])('should clamp %s to one year, a finite number that survives JSON', (_name, expiresIn) => {
    const tokens = token({ expires_in: expiresIn });
    expect([tokens.expiresAt, tokens.issuedAt]).toEqual([NOW + YEAR_MS, NOW]);
    expect(JSON.parse(JSON.stringify(tokens)).expiresAt).toBe(NOW + YEAR_MS);
  });

  it('should keep exactly one year', () => {
    expect(token({ expires_in: MAX_LIFETIME_SECONDS }).expiresAt).toBe(NOW + YEAR_MS);
  });

  it('should cut a fractional expires_in to whole seconds (found by fuzz-token-response: 5e-324 gave expiresAt = now)', () => {
    expect(token({ expires_in: 59.9 }).expiresAt).toBe(NOW + 59_000);
  });

  it.each([[0], [-1], ['0'], [-Infinity], [0.999], [5e-324]])('should treat expires_in %j as absent (no expiresAt, never refreshed proactively)', (expiresIn) => {
    const tokens = token({ expires_in: expiresIn });
    expect([tokens.expiresAt, tokens.issuedAt]).toEqual([undefined, undefined]);
    expect(isExpiring(tokens, NOW + YEAR_MS, 60_000)).toBe(false);
  });
});

describe('isExpiring with short lifetimes', () => {
  it('should refresh a 30 s token (leeway 60 s) after half its lifetime, not on every call', () => {
    const tokens = token({ expires_in: 30 });
    expect(isExpiring(tokens, NOW, 60_000)).toBe(false);
    expect(isExpiring(tokens, NOW + 15_000, 60_000)).toBe(false);
    expect(isExpiring(tokens, NOW + 15_001, 60_000)).toBe(true);
  });

  it('should still use the full leeway for long lifetimes', () => {
    const tokens = token({ expires_in: 3600 });
    expect(isExpiring(tokens, NOW + 3_540_000, 60_000)).toBe(false);
    expect(isExpiring(tokens, NOW + 3_540_001, 60_000)).toBe(true);
  });

  it('should treat a record stored before issuedAt existed by the leeway alone (backward compatible)', () => {
    const legacy: TokenSet = { accessToken: 'at', tokenType: 'bearer', expiresAt: NOW + 30_000 };
    expect(isExpiring(legacy, NOW, 60_000)).toBe(true);
    expect(isExpiring(legacy, NOW, 20_000)).toBe(false);
  });

  it('should never refresh proactively a record whose infinite expiry was stored as null', () => {
    const stored = JSON.parse(JSON.stringify({ accessToken: 'at', tokenType: 'bearer', expiresAt: Infinity })) as TokenSet;
    expect(stored.expiresAt).toBeNull();
    expect(isExpiring(stored, NOW, 60_000)).toBe(false);
  });

  it('should always report an expired token as expiring, whatever its lifetime', () => {
    const tokens = token({ expires_in: 30 });
    expect(isExpiring({ ...tokens, expiresAt: NOW - 1000 }, NOW, 60_000)).toBe(true);
  });
});

describe('short-lived tokens end to end (real authorization server)', () => {
  let as: TestAuthorizationServer;
  let api: ResourceServer;
  beforeAll(async () => {
    as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTTL: 30 });
    api = await startResourceServer({ issuer: as.issuer });
  });
  afterAll(async () => {
    await api.stop();
    await as.stop();
  });

  it('should make no refresh for 5 calls inside the first half of a 30 s token with a 60 s leeway, then one', async () => {
    const { app } = createTestApp({
      oauth: providerOptions(as, { apiBaseUrl: api.url, refreshLeewaySeconds: 60 }),
      routes: (a) =>
        a.get('/call', async (req, res, next) => {
          try {
            res.status((await req.oauth.get('/api/me')).status).end();
          } catch (err) {
            next(err);
          }
        }),
    });
    const agent = request.agent(app);
    await login(agent);
    const start = Date.now();
    await as.clearRequests();
    for (let i = 0; i < 5; i++) await agent.get('/call').expect(200);
    expect(await as.tokenRequests('refresh_token')).toHaveLength(0);
    const clock = jest.spyOn(Date, 'now').mockReturnValue(start + 16_000);
    try {
      await agent.get('/call').expect(200);
      await agent.get('/call').expect(200);
      expect(await as.tokenRequests('refresh_token')).toHaveLength(1);
    } finally {
      clock.mockRestore();
    }
  });
});
