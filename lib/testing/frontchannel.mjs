// OpenID Connect Front-Channel Logout 1.0 for the test provider. oidc-provider 9 dropped it; this
// puts it back the way an OP does it: clients registered with `frontchannel_logout_uri` (and
// `frontchannel_logout_session_required: true`, which also puts `sid` in their ID tokens) are
// framed, with `iss` and `sid`, by the page the provider answers after the user confirms the logout
// at its end-session endpoint; that page then continues to where the logout was going.

/** Client metadata oidc-provider must accept (extraClientMetadata.properties). */
export const FRONTCHANNEL_CLIENT_METADATA = ['frontchannel_logout_uri', 'frontchannel_logout_session_required'];

function htmlSafe(value) {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** The logout page: one iframe per client, then on to `location` once every frame loaded (or after 5 s). */
export function frontchannelLogoutPage(frames, location) {
  const iframes = frames.map((src) => `<iframe class="frontchannel" src="${htmlSafe(src)}" width="0" height="0" style="display:none"></iframe>`).join('\n');
  return `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Signing out</title></head>
<body>
<p>Signing you out of the applications you used…</p>
${iframes}
<a id="continue" href="${htmlSafe(location)}">Continue</a>
<script>
  (function () {
    var frames = document.querySelectorAll('iframe.frontchannel');
    var left = frames.length;
    var go = function () { window.location.replace(document.getElementById('continue').href); };
    frames.forEach(function (f) { f.addEventListener('load', function () { if (--left === 0) go(); }); });
    setTimeout(go, 5000);
  })();
</script>
</body>
</html>`;
}

/**
 * Install front-channel logout on a started oidc-provider. `clients` is the static client list.
 * After a confirmed logout (POST /session/end/confirm answering 303), when clients of the ended
 * session have a `frontchannel_logout_uri`, the answer becomes the framing page.
 */
export function installFrontchannelLogout(provider, issuer, clients) {
  const uris = new Map(clients.filter((c) => c.frontchannel_logout_uri).map((c) => [c.client_id, c]));
  // oidc-provider adds `sid` to ID tokens only for back-channel clients that require it.
  const includeSid = provider.Client.prototype.includeSid;
  provider.Client.prototype.includeSid = function includeSidForFrontchannel() {
    return includeSid.call(this) || (this.frontchannel_logout_uri !== undefined && this.frontchannel_logout_session_required === true);
  };
  const FRAMES = Symbol('frontchannel frames');
  provider.on('end_session.success', (ctx) => {
    const session = ctx.oidc?.session;
    if (!session?.authorizations) return;
    const frames = [];
    for (const clientId of Object.keys(session.authorizations)) {
      const client = uris.get(clientId);
      if (!client) continue;
      const url = new URL(client.frontchannel_logout_uri);
      if (client.frontchannel_logout_session_required) {
        url.searchParams.set('iss', issuer);
        url.searchParams.set('sid', session.sidFor(clientId));
      }
      frames.push(url.toString());
    }
    ctx[FRAMES] = frames;
  });
  provider.use(async (ctx, next) => {
    await next();
    const frames = ctx[FRAMES];
    if (!frames?.length || ctx.status !== 303) return;
    const location = ctx.response.get('location');
    ctx.remove('location');
    ctx.status = 200;
    ctx.type = 'html';
    ctx.body = frontchannelLogoutPage(frames, location);
  });
}
