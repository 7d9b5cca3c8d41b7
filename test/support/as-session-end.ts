import type { CookieJar } from 'express-oauth2-session/testing';

/**
 * Log the browser (its AS cookie jar) out at the AS: RP-initiated logout's confirmation page,
 * then "yes, log out of every client" (`logout=yes`). oidc-provider sends each client registered
 * with a `backchannel_logout_uri` its logout token before it answers the confirmation. With
 * `everyClient: false` ("no"), only `clientId`'s login at the AS ends, and only it gets a token.
 */
export async function endSessionAtAs(endSessionUrl: string, clientId: string, jar: CookieJar, options: { everyClient?: boolean } = {}): Promise<number> {
  const pageUrl = `${endSessionUrl}?client_id=${encodeURIComponent(clientId)}`;
  const page = await fetch(pageUrl, { headers: { cookie: jar.header(pageUrl) ?? '' }, redirect: 'manual' });
  jar.store(pageUrl, page);
  const html = await page.text();
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
  if (!action || !xsrf) throw new Error(`no logout confirmation form at ${pageUrl} (HTTP ${page.status})`);
  const confirmUrl = new URL(action, pageUrl).toString();
  const confirmed = await fetch(confirmUrl, {
    method: 'POST',
    headers: { cookie: jar.header(confirmUrl) ?? '', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(options.everyClient === false ? { xsrf } : { xsrf, logout: 'yes' }),
    redirect: 'manual',
  });
  await confirmed.arrayBuffer();
  return confirmed.status;
}
