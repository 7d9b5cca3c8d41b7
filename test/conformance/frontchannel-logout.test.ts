import { startScriptableOp, type ScriptableOp } from '../support/scriptable-op/op';
import { listen, loginAt, rpApp, rpOptions, sessionOf } from '../support/scriptable-op/rp';

// OIDF Front-Channel Logout RP (oidcc-client-front-channel-logout-rp-basic): the provider's logout
// page loads the RP's frontchannel_logout_uri in an iframe, with `iss` and `sid`. The frame is a
// third-party request: it carries no session cookie, so the fetch here sends none. As with the
// back-channel plan, the frame reaches a live session (the package's own RP-initiated logout
// would have ended it already), so the test sees what the frame does.
let op: ScriptableOp;
beforeAll(async () => {
  op = await startScriptableOp();
});
afterEach(() => op.reset());
afterAll(() => op.stop());

describe('OIDF Front-Channel Logout RP', () => {
  it('oidcc-client-test-rp-frontchannel-rpinitlogout: the front-channel frame with the login iss and sid ends the session (200, framable by the provider only)', async () => {
    const rp = rpApp(rpOptions(op, { frontchannelLogout: true }));
    const server = await listen(rp.app);
    try {
      expect((await loginAt(rp.agent)).status).toBe(303);
      const { sid } = op.logins.at(-1)!;
      const frame = (iss: string) => fetch(`${server.origin}/frontchannel-logout?${new URLSearchParams({ iss, sid })}`, { headers: { accept: 'text/html', 'sec-fetch-dest': 'iframe' } });
      const wrongIss = await frame('https://op.example');
      expect(wrongIss.status).toBe(400);
      expect(await sessionOf(rp.agent)).toEqual({ authenticated: true, sub: 'alice-0001' });
      const res = await frame(op.issuer);
      expect([res.status, res.headers.get('cache-control'), res.headers.get('content-security-policy')?.endsWith(`frame-ancestors ${op.issuer}`)]).toEqual([200, 'no-store', true]);
      expect(await sessionOf(rp.agent)).toEqual({ authenticated: false, sub: null });
    } finally {
      await server.close();
    }
  });
});
