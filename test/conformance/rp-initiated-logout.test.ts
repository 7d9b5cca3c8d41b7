import { startScriptableOp, type ScriptableOp } from '../support/scriptable-op/op';
import { loginAt, rpApp, rpOptions, sessionOf } from '../support/scriptable-op/rp';

// OIDF RP-Initiated Logout RP (oidcc-client-rp-initiated-logout-rp-basic), with `idpLogout`: POST
// /logout ends the session here, then sends the browser to the discovered end_session_endpoint
// with id_token_hint, client_id, post_logout_redirect_uri and state; the provider comes back to
// post_logout_redirect_uri. Only the state sent brings the browser on to the logout's returnTo;
// another or no state leaves it on the app's own landing page (here none: 404).
let op: ScriptableOp;
beforeAll(async () => {
  op = await startScriptableOp();
});
afterEach(() => op.reset());
afterAll(() => op.stop());

/** Log in, POST /logout?returnTo=/bye, follow the end-session redirect: the landing response and the end-session request. */
async function logoutThroughProvider() {
  const { agent } = rpApp(rpOptions(op, { idpLogout: true }));
  expect((await loginAt(agent)).status).toBe(303);
  const idToken = op.issued.at(-1)!.body.id_token;
  const logout = await agent.post('/logout?returnTo=/bye');
  expect(logout.status).toBe(303);
  const endSession = new URL(logout.headers.location as string);
  expect(await sessionOf(agent)).toEqual({ authenticated: false, sub: null });
  const back = await fetch(endSession, { redirect: 'manual' });
  await back.arrayBuffer();
  const landing = new URL(back.headers.get('location') ?? '');
  const res = await agent.get(`${landing.pathname}${landing.search}`);
  return { endSession, idToken, landing, res };
}

describe('OIDF RP-Initiated Logout RP', () => {
  it('oidcc-client-test-rp-init-logout: redirects to the end_session_endpoint with id_token_hint, client_id, post_logout_redirect_uri and state, and follows the state back to returnTo', async () => {
    const { endSession, idToken, landing, res } = await logoutThroughProvider();
    const q = endSession.searchParams;
    expect([`${endSession.origin}${endSession.pathname}`, q.get('id_token_hint'), q.get('client_id'), q.get('post_logout_redirect_uri'), (q.get('state') ?? '').length >= 20]).toEqual([
      `${op.issuer}/end-session`,
      idToken,
      op.clientId,
      'http://127.0.0.1:3000/',
      true,
    ]);
    expect(landing.searchParams.get('state')).toBe(q.get('state'));
    expect([res.status, res.headers.location]).toEqual([303, '/bye']);
  });

  it('oidcc-client-test-rp-init-logout-other-state: does not act on a return with another state (no redirect to returnTo; the session stays ended)', async () => {
    op.script = { endSessionState: () => 'a-state-the-rp-did-not-send' };
    const { res } = await logoutThroughProvider();
    expect([res.status, res.headers.location]).toEqual([404, undefined]);
  });

  it('oidcc-client-test-rp-init-logout-no-state: does not act on a return without state (no redirect to returnTo; the session stays ended)', async () => {
    op.script = { endSessionState: () => null };
    const { landing, res } = await logoutThroughProvider();
    expect([landing.searchParams.has('state'), res.status, res.headers.location]).toEqual([false, 404, undefined]);
  });
});
