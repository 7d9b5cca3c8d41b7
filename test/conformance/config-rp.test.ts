import { startScriptableOp, type ScriptableOp } from '../support/scriptable-op/op';
import { loginAt, rpApp, rpOptions, sessionOf } from '../support/scriptable-op/rp';

// OIDF Config RP (oidcc-client-config-certification-test-plan): discovery and signing-key
// rotation, against the scriptable provider. The RP is configured with the issuer only.
let op: ScriptableOp;
beforeAll(async () => {
  op = await startScriptableOp();
});
afterEach(() => {
  op.reset();
  jest.restoreAllMocks();
});
afterAll(() => op.stop());

/** The clock moved forward by `ms` (the JWKS refetch limits count in real time; no sleeping). */
function advanceClock() {
  const real = Date.now.bind(Date);
  let offset = 0;
  jest.spyOn(Date, 'now').mockImplementation(() => real() + offset);
  return (ms: number) => void (offset += ms);
}

describe('OIDF Config RP', () => {
  it('rp-discovery-openid-configuration: reads the endpoints from the discovery document of the configured issuer, then logs in through them', async () => {
    const { agent } = rpApp(rpOptions(op));
    const mark = op.requests.length;
    expect((await loginAt(agent)).status).toBe(303);
    expect(op.since(mark)).toEqual(['GET /.well-known/openid-configuration', 'GET /authorize', 'POST /token', 'GET /jwks']);
    expect(await sessionOf(agent)).toEqual({ authenticated: true, sub: 'alice-0001' });
  });

  it('rp-discovery-jwks_uri-keys: verifies the ID token with the keys of the discovered jwks_uri', async () => {
    op.script = { discovery: (doc) => ({ ...doc, jwks_uri: `${op.issuer}/jwks?set=discovered` }) };
    const { agent } = rpApp(rpOptions(op));
    const mark = op.requests.length;
    expect((await loginAt(agent)).status).toBe(303);
    expect(
      op.requests
        .slice(mark)
        .filter((r) => r.path === '/jwks')
        .map((r) => r.query.get('set')),
    ).toEqual(['discovered']);
  });

  it('rp-discovery-issuer-not-matching-config: refuses a discovery document that names another issuer (502, no authorization request)', async () => {
    op.script = { discovery: (doc) => ({ ...doc, issuer: 'https://op.example' }) };
    const { agent } = rpApp(rpOptions(op));
    const mark = op.requests.length;
    const res = await agent.get('/login');
    expect([res.status, res.body.code]).toEqual([502, 'OAUTH_DISCOVERY_ERROR']);
    expect(op.since(mark)).toEqual(['GET /.well-known/openid-configuration']);
    expect(await sessionOf(agent)).toEqual({ authenticated: false, sub: null });
  });

  it('rp-key-rotation-op-sign-key: a provider that rotates its signing key between two logins does not break the second (one JWKS refetch)', async () => {
    const advance = advanceClock();
    const { agent, errors } = rpApp(rpOptions(op));
    const mark = op.requests.length;
    expect((await loginAt(agent)).status).toBe(303);
    await op.rotate(true);
    advance(2_000);
    expect((await loginAt(agent)).status).toBe(303);
    expect(op.since(mark).filter((c) => c === 'GET /jwks')).toHaveLength(2);
    expect([await sessionOf(agent), errors]).toEqual([{ authenticated: true, sub: 'alice-0001' }, []]);
  });

  it('rp-key-rotation-op-sign-key-native: a new kid refetches the JWKS once; a token signed by the removed key is refused, and its kid refetches at most once per 30 s', async () => {
    const advance = advanceClock();
    const { agent, errors } = rpApp(rpOptions(op));
    const jwksFetches = (mark: number) => op.since(mark).filter((c) => c === 'GET /jwks').length;
    let mark = op.requests.length;
    expect((await loginAt(agent)).status).toBe(303);
    const removed = op.keys.signing;
    await op.rotate(false); // the old key leaves the JWKS
    advance(2_000);
    expect([(await loginAt(agent)).status, jwksFetches(mark)]).toEqual([303, 2]);

    op.script = { idTokenSigning: () => ({ key: removed }) };
    advance(2_000);
    mark = op.requests.length;
    expect([(await loginAt(agent)).status, jwksFetches(mark)]).toEqual([502, 1]);
    advance(2_000);
    mark = op.requests.length;
    expect([(await loginAt(agent)).status, jwksFetches(mark)]).toEqual([502, 0]);
    expect(errors.map((e) => e.message)).toEqual(['The ID token failed verification (ERR_JWKS_NO_MATCHING_KEY).', 'The ID token failed verification (ERR_JWKS_NO_MATCHING_KEY).']);
  });
});
