// Server-rendered pages of the example app: plain HTML, a little CSS, every value escaped.

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const CSS = `
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; padding: 0 1rem; color: #1f2328; background: #fff; }
  header { display: flex; justify-content: space-between; align-items: center; border-bottom: 1px solid #d0d7de; margin-bottom: 1.5rem; padding-bottom: .5rem; }
  header form { margin: 0; }
  nav a { margin-right: 1rem; }
  .button, button { background: #1f6feb; color: #fff; border: 0; border-radius: 6px; padding: .5rem 1rem; font-size: 1rem; cursor: pointer; text-decoration: none; display: inline-block; }
  .button.secondary, button.secondary { background: #57606a; }
  .card { border: 1px solid #d0d7de; border-radius: 8px; padding: 1rem 1.25rem; display: flex; gap: 1rem; align-items: center; }
  .avatar { width: 3.5rem; height: 3.5rem; border-radius: 50%; background: #1f6feb; color: #fff; font-size: 1.6rem; display: grid; place-items: center; }
  .card .name { font-size: 1.25rem; font-weight: 600; }
  .notice { background: #dafbe1; border: 1px solid #4ac26b; border-radius: 6px; padding: .5rem 1rem; }
  .countdown { font-size: 1.25rem; }
  .countdown strong { font-variant-numeric: tabular-nums; }
  .actions { display: flex; gap: .75rem; align-items: center; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
  dt { font-weight: 600; }
  pre { background: #f6f8fa; padding: 1rem; border-radius: 6px; overflow: auto; white-space: pre-wrap; word-break: break-word; }
  .muted { color: #57606a; }
  table.claims { border-collapse: collapse; width: 100%; }
  table.claims th, table.claims td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }
  table.claims td:nth-child(2) { font-family: ui-monospace, monospace; word-break: break-all; }
`;

/** Where logging out ends: home, with a notice (the logout's returnTo, also after the provider's own logout). */
export const SIGNED_OUT_PATH = '/?signedOut=1';

export function layout(title: string, body: string, loggedIn: boolean): string {
  const auth = loggedIn ? `<form method="post" action="/logout?returnTo=${encodeURIComponent(SIGNED_OUT_PATH)}"><button class="secondary" type="submit">Log out</button></form>` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · express-oauth2-session</title><style>${CSS}</style><script src="/assets/app.js" defer></script></head>
<body><header><nav><a href="/">Home</a><a href="/profile">Profile</a><a href="/status">Token status</a></nav>${auth}</header>
<main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

export function definitionList(entries: Record<string, unknown>): string {
  const rows = Object.entries(entries).map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(typeof v === 'object' ? JSON.stringify(v) : v)}</dd>`);
  return `<dl>${rows.join('')}</dl>`;
}

/** The user's card: name and email (ID-token claims or UserInfo), subject. */
export function profileCard(user: { sub?: unknown; name?: unknown; email?: unknown }): string {
  const name = typeof user.name === 'string' ? user.name : String(user.sub ?? 'Someone');
  const email = typeof user.email === 'string' ? `<div id="email">${escapeHtml(user.email)}</div>` : '<div class="muted">no email shared</div>';
  return `<div class="card"><div class="avatar">${escapeHtml(name.slice(0, 1).toUpperCase())}</div>
    <div><div class="name" id="name">${escapeHtml(name)}</div>${email}<div class="muted">subject: ${escapeHtml(user.sub ?? '?')}</div></div></div>`;
}

/** A countdown that /assets/app.js moves every quarter second; `reload` reloads the page at zero. */
export function countdown(id: string, ms: number, atZero?: 'reload'): string {
  const left = Math.max(0, Math.round(ms));
  return `<strong id="${escapeHtml(id)}" data-countdown-ms="${left}"${atZero ? ` data-at-zero="${atZero}"` : ''}>${Math.ceil(left / 1000)} s</strong>`;
}

/**
 * A live countdown to the next refresh: the client refreshes when fewer than `refreshLeewaySeconds`
 * remain, on the next use of the token; at zero the page reloads, and that request refreshes it.
 */
export function refreshCountdown(refreshInMs: number | undefined): string {
  if (refreshInMs === undefined) return '<p class="countdown">This token does not expire: no refresh is scheduled.</p>';
  return `<p class="countdown">Next refresh in ${countdown('refresh-countdown', refreshInMs, 'reload')}</p>`;
}

const TIME_CLAIMS = new Set(['exp', 'iat', 'nbf', 'auth_time', 'updated_at']);

/** Every claim of the ID token, one row each; times also as dates. */
export function claimsTable(claims: Record<string, unknown>): string {
  const rows = Object.entries(claims).map(([name, value]) => {
    const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
    const when = TIME_CLAIMS.has(name) && typeof value === 'number' ? ` <span class="muted">(${new Date(value * 1000).toISOString()})</span>` : '';
    return `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(text)}${when}</td></tr>`;
  });
  return `<table class="claims" id="claims"><thead><tr><th>claim</th><th>value</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The "Call the API" button and where /assets/app.js shows the request and the response. */
export function callApiPanel(description: string): string {
  return `<p><button type="button" id="call-api" data-endpoint="/call-api">Call the API</button> <span class="muted">${escapeHtml(description)}</span></p>
<pre id="api-call-result">Press the button: the server calls the API with your access token and shows the request and the response here.</pre>`;
}

/** The app's own confirmation page for GET /logout (a link or an image cannot log anyone out). */
export function logoutConfirmation(): string {
  const body = `<p>You will be logged out of this app, and of the sign-in service that logged you in.</p>
    <div class="actions"><form method="post" action="/logout?returnTo=${encodeURIComponent(SIGNED_OUT_PATH)}"><button type="submit">Log out</button></form>
    <a class="button secondary" href="/">Stay logged in</a></div>`;
  return layout('Log out?', body, false);
}

/** Errors that are not the OAuth package's (oauthErrorHandler renders those). */
export function errorPage(status: number): string {
  return layout(
    'Something went wrong',
    `<p>The app could not show this page (HTTP ${status}).</p><p><a class="button" href="/">Back home</a></p>
    <p class="muted">Developing? <a href="${TROUBLESHOOTING_URL}">The troubleshooting guide</a> explains every message of express-oauth2-session.</p>`,
    false,
  );
}

/** The package's troubleshooting guide (also in node_modules/express-oauth2-session/docs/). */
export const TROUBLESHOOTING_URL = 'https://github.com/express-oauth2-session/express-oauth2-session/blob/main/docs/troubleshooting.md';
