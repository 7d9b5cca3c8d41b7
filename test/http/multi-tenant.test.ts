import type { JWTPayload } from 'jose';
import { providers } from 'express-oauth2-session';
import { startScriptableOp, type ScriptableOp } from '../support/scriptable-op/op';
import { listen, loginAt, rpApp, rpOptions, sessionOf } from '../support/scriptable-op/rp';

// Multi-tenant issuers against a provider that behaves like Microsoft Entra ID's `organizations`
// endpoint: its discovery document names the issuer template `<host>/{tenantid}/v2.0`, and each ID
// token's `iss` is the template with the user's tenant (`tid`) in it.
const TENANT_A = '11111111-aaaa-4aaa-8aaa-111111111111';
const TENANT_B = '22222222-bbbb-4bbb-8bbb-222222222222';
const TENANT_C = '33333333-cccc-4ccc-8ccc-333333333333';
let op: ScriptableOp;
let template: string;
beforeAll(async () => {
  op = await startScriptableOp();
  template = `${op.issuer}/{tenantid}/v2.0`;
});
afterEach(() => op.reset());
afterAll(() => op.stop());

/** Entra-like behaviour: the templated issuer in discovery, ID tokens of `tenant` (changed further by `change`). */
function actLikeEntra(tenant: string, change: (claims: JWTPayload) => JWTPayload = (c) => c) {
  op.script = {
    discovery: (doc) => ({ ...doc, issuer: template }),
    idTokenClaims: (claims) => change({ ...claims, iss: template.replace('{tenantid}', tenant), tid: tenant }),
  };
}

const multiTenant = (overrides: Record<string, unknown> = {}) => rpOptions(op, { issuer: template, discoveryUrl: `${op.issuer}/.well-known/openid-configuration`, ...overrides });
const calls = (mark: number) => op.since(mark).filter((c) => c !== 'GET /jwks' && c !== 'GET /.well-known/openid-configuration');

async function loginAs(rp: ReturnType<typeof rpApp>, user: string, tenant: string, change?: (claims: JWTPayload) => JWTPayload) {
  actLikeEntra(tenant, change);
  op.setUser(user);
  const mark = op.requests.length;
  const callback = await loginAt(rp.agent);
  return { callback, mark, session: await sessionOf(rp.agent) };
}

describe('issuer template ({tenantid}) with allowedTenants', () => {
  it('should log in users of two allowed tenants, each checked against their own tenant issuer', async () => {
    const alice = rpApp(multiTenant({ allowedTenants: [TENANT_A, TENANT_B] }));
    const a = await loginAs(alice, 'alice', TENANT_A);
    expect([a.callback.status, a.session]).toEqual([303, { authenticated: true, sub: 'alice' }]);
    const bob = { ...alice, agent: (await import('supertest')).default.agent(alice.app) };
    const b = await loginAs(bob, 'bob', TENANT_B);
    expect([b.callback.status, b.session]).toEqual([303, { authenticated: true, sub: 'bob' }]);
    expect((await alice.agent.get('/session')).body.user).toMatchObject({ sub: 'alice', tid: TENANT_A });
    expect((await bob.agent.get('/session')).body.user).toMatchObject({ sub: 'bob', tid: TENANT_B });
  });

  it('should refuse a user of a tenant outside allowedTenants with 401 OAUTH_TENANT_NOT_ALLOWED, no session and no further provider call', async () => {
    const rp = rpApp(multiTenant({ allowedTenants: [TENANT_A, TENANT_B] }));
    const { callback, mark, session } = await loginAs(rp, 'carol', TENANT_C);
    expect([callback.status, callback.body.code, rp.errors.map((e) => e.code)]).toEqual([401, 'OAUTH_TENANT_NOT_ALLOWED', ['OAUTH_TENANT_NOT_ALLOWED']]);
    expect(session).toEqual({ authenticated: false, sub: null });
    expect(calls(mark)).toEqual(['GET /authorize', 'POST /token']);
  });

  it.each([
    ['iss names another tenant than tid', (c: JWTPayload) => ({ ...c, iss: template.replace('{tenantid}', TENANT_B) }), 'The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: iss).'],
    ['iss is the template itself', (c: JWTPayload) => ({ ...c, iss: template }), 'The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: iss).'],
    ['no tid', (c: JWTPayload) => ({ ...c, tid: undefined }), 'The ID token has no valid tid claim, which a multi-tenant issuer needs to name its tenant.'],
    [
      'a tid that cannot stand in an issuer',
      (c: JWTPayload) => ({ ...c, tid: '../other', iss: template.replace('{tenantid}', '../other') }),
      'The ID token has no valid tid claim, which a multi-tenant issuer needs to name its tenant.',
    ],
    ['another provider’s issuer', (c: JWTPayload) => ({ ...c, iss: 'https://op.example' }), 'The ID token failed verification (ERR_JWT_CLAIM_VALIDATION_FAILED: iss).'],
  ])('should refuse (502 OAUTH_ID_TOKEN_INVALID) an ID token whose %s', async (_what, change, message) => {
    const rp = rpApp(multiTenant());
    const { callback, session } = await loginAs(rp, 'alice', TENANT_A, change);
    expect([callback.status, rp.errors.map((e) => [e.code, e.message])]).toEqual([502, [['OAUTH_ID_TOKEN_INVALID', message]]]);
    expect(session).toEqual({ authenticated: false, sub: null });
  });

  it('should accept any tenant without allowedTenants', async () => {
    const rp = rpApp(multiTenant());
    const { callback, session } = await loginAs(rp, 'carol', TENANT_C);
    expect([callback.status, session]).toEqual([303, { authenticated: true, sub: 'carol' }]);
  });

  it('should refuse a discovery document whose issuer is a concrete tenant (the configured template must match exactly)', async () => {
    const rp = rpApp(multiTenant());
    op.script = { discovery: (doc) => ({ ...doc, issuer: template.replace('{tenantid}', TENANT_A) }) };
    const start = await rp.agent.get('/login');
    expect([start.status, start.body.code]).toEqual([502, 'OAUTH_DISCOVERY_ERROR']);
  });

  it("should end a tenant user's login on a back-channel logout token from that tenant's issuer", async () => {
    const rp = rpApp(multiTenant({ backchannelLogout: true }));
    const server = await listen(rp.app);
    try {
      await loginAs(rp, 'alice', TENANT_A);
      expect((await sessionOf(rp.agent)).authenticated).toBe(true);
      const login = op.logins.at(-1)!;
      const tenantIssuer = template.replace('{tenantid}', TENANT_A);
      const forged = await op.logoutToken(login, (c) => ({ ...c, iss: template.replace('{tenantid}', TENANT_B), tid: TENANT_A }));
      expect(await op.sendLogoutToken(`${server.origin}/backchannel-logout`, forged)).toBe(400);
      expect((await sessionOf(rp.agent)).authenticated).toBe(true);
      const token = await op.logoutToken(login, (c) => ({ ...c, iss: tenantIssuer, tid: TENANT_A }));
      expect(await op.sendLogoutToken(`${server.origin}/backchannel-logout`, token)).toBe(200);
      expect(await sessionOf(rp.agent)).toEqual({ authenticated: false, sub: null });
    } finally {
      await server.close();
    }
  });
});

describe('multi-tenant config', () => {
  it.each([
    [{ discoveryUrl: undefined }, 'oauthMiddleware: `discoveryUrl` is required with an issuer template ({tenantid})'],
    [{ issuer: 'https://login.example/{tenantid}/{tenantid}' }, 'oauthMiddleware: `issuer` must hold {tenantid} once'],
    [{ issuer: 'https://login.example', allowedTenants: [TENANT_A] }, 'oauthMiddleware: `allowedTenants` needs an `issuer` template holding {tenantid}'],
    [{ allowedTenants: [] }, 'oauthMiddleware: `allowedTenants` must be a non-empty array of tenant ids'],
    [{ allowedTenants: ['a/b'] }, 'oauthMiddleware: `allowedTenants[0]` must be a tenant id'],
    [{ issuer: undefined, authorizationUrl: 'https://a.example/a', tokenUrl: 'https://a.example/t' }, 'oauthMiddleware: `discoveryUrl` needs `issuer`'],
  ])('should refuse %j at startup', (overrides, message) => {
    expect(() => rpApp(multiTenant(overrides))).toThrow(message);
  });

  it('providers.entra: the template and discovery URL for common/organizations, a fixed issuer for a tenant id or consumers; refuses a domain name', () => {
    expect(providers.entra({ tenant: 'organizations' })).toEqual({
      issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0',
      discoveryUrl: 'https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration',
      scope: ['openid'],
    });
    expect(providers.entra({ tenant: TENANT_A.toUpperCase() })).toEqual({ issuer: `https://login.microsoftonline.com/${TENANT_A}/v2.0`, scope: ['openid'] });
    expect(providers.entra({ tenant: 'consumers' }).issuer).toBe('https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0');
    expect(() => providers.entra({ tenant: 'contoso.onmicrosoft.com' })).toThrow('`entra.tenant` must be your directory (tenant) id');
    // The preset's options resolve (the template needs no configured endpoints: discoveryUrl is set).
    expect(() => rpApp(rpOptions(op, { ...providers.entra({ tenant: 'common' }), allowedTenants: [TENANT_A] }))).not.toThrow();
  });
});
