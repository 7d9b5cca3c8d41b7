import type { JWTPayload } from 'jose';
import { BACKCHANNEL_LOGOUT_EVENT, startScriptableOp, type ScriptableOp } from '../support/scriptable-op/op';
import type { Signing } from '../support/scriptable-op/keys';
import { listen, loginAt, rpApp, rpOptions, sessionOf } from '../support/scriptable-op/rp';

// OIDF Back-Channel Logout RP (oidcc-client-back-channel-logout-rp-basic): the provider's
// back-channel sender POSTs a logout token to the RP's /backchannel-logout. A valid one ends the
// session of its sid (200); every negative is refused with 400 and the session stays logged in.
// The plan sends the token after the RP's own end-session redirect, when this package has ended
// the session already; here it is sent to a live session, so the test sees what the token does.
let op: ScriptableOp;
beforeAll(async () => {
  op = await startScriptableOp();
});
afterEach(() => op.reset());
afterAll(() => op.stop());

async function loggedIn(discovery?: (doc: Record<string, unknown>) => Record<string, unknown>) {
  op.script = discovery ? { discovery } : {};
  const rp = rpApp(rpOptions(op, { backchannelLogout: true }));
  const server = await listen(rp.app);
  expect((await loginAt(rp.agent)).status).toBe(303);
  const login = op.logins.at(-1)!;
  const uri = `${server.origin}/backchannel-logout`;
  const send = async (change?: (claims: JWTPayload) => JWTPayload, signing?: Signing) => op.sendLogoutToken(uri, await op.logoutToken(login, change, signing));
  return { ...rp, uri, send, close: server.close };
}

async function expectRefused(change?: (claims: JWTPayload) => JWTPayload, signing?: Signing) {
  const rp = await loggedIn();
  try {
    expect(await rp.send(change, signing)).toBe(400);
    expect(await sessionOf(rp.agent)).toEqual({ authenticated: true, sub: 'alice-0001' });
  } finally {
    await rp.close();
  }
}

describe('OIDF Back-Channel Logout RP', () => {
  it('oidcc-client-test-rp-backchannel-rpinitlogout: a valid logout token for the login sid ends the session (200), and its replay is refused', async () => {
    const rp = await loggedIn();
    try {
      const token = await op.logoutToken(op.logins.at(-1)!);
      expect(await op.sendLogoutToken(rp.uri, token)).toBe(200);
      expect(await sessionOf(rp.agent)).toEqual({ authenticated: false, sub: null });
      expect(await op.sendLogoutToken(rp.uri, token)).toBe(400);
    } finally {
      await rp.close();
    }
  });

  it("oidcc-client-test-rp-backchannel-rpinitlogout-alg-none: refuses a logout token with alg 'none' (400)", async () => {
    await expectRefused(undefined, { alg: 'none' });
  });

  it('oidcc-client-test-rp-backchannel-rpinitlogout-no-event: refuses a logout token without the back-channel logout event (400)', async () => {
    await expectRefused((c) => ({ ...c, events: undefined }));
  });

  it('oidcc-client-test-rp-backchannel-rpinitlogout-with-nonce: refuses a logout token that carries a nonce (400)', async () => {
    await expectRefused((c) => ({ ...c, nonce: 'n-0123456789' }));
  });

  it("oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg: refuses a logout token signed (ES256, a published key) with an alg not in discovery's id_token_signing_alg_values_supported (400)", async () => {
    op.keys.published = [op.keys.signing, op.ec];
    await expectRefused(undefined, { key: op.ec });
    // Control: the same kind of token is accepted from a provider that says it signs ID tokens with ES256 too.
    const rp = await loggedIn((doc) => ({ ...doc, id_token_signing_alg_values_supported: ['RS256', 'ES256'] }));
    try {
      expect(await rp.send(undefined, { key: op.ec })).toBe(200);
    } finally {
      await rp.close();
    }
  });

  it('oidcc-client-test-rp-backchannel-rpinitlogout-wrong-aud: refuses a logout token for another client (400)', async () => {
    await expectRefused((c) => ({ ...c, aud: 'another-client' }));
  });

  it('oidcc-client-test-rp-backchannel-rpinitlogout-wrong-event: refuses a logout token whose event is not the back-channel logout event (400)', async () => {
    await expectRefused((c) => ({ ...c, events: { [`${BACKCHANNEL_LOGOUT_EVENT}-other`]: {} } }));
  });

  it('oidcc-client-test-rp-backchannel-rpinitlogout-wrong-iss: refuses a logout token from another issuer (400)', async () => {
    await expectRefused((c) => ({ ...c, iss: 'https://op.example' }));
  });
});
