// Server-rendered pages of the example app: plain HTML, a little CSS, every value escaped.

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const CSS = `
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; padding: 0 1rem; color: #1f2328; }
  header { display: flex; justify-content: space-between; align-items: center; border-bottom: 1px solid #d0d7de; margin-bottom: 1.5rem; }
  nav a { margin-right: 1rem; }
  .button, button { background: #1f6feb; color: #fff; border: 0; border-radius: 6px; padding: .5rem 1rem; font-size: 1rem; cursor: pointer; text-decoration: none; }
  button.secondary { background: #57606a; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
  dt { font-weight: 600; }
  pre { background: #f6f8fa; padding: 1rem; border-radius: 6px; overflow: auto; }
  .muted { color: #57606a; }
`;

export function layout(title: string, body: string, loggedIn: boolean): string {
  const auth = loggedIn
    ? '<form method="post" action="/logout"><button class="secondary" type="submit">Log out</button></form>'
    : '<a class="button" href="/login">Log in</a>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · express-oauth2-session</title><style>${CSS}</style></head>
<body><header><nav><a href="/">Home</a><a href="/profile">Profile</a><a href="/status">Token status</a></nav>${auth}</header>
<main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

export function definitionList(entries: Record<string, unknown>): string {
  const rows = Object.entries(entries).map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(typeof v === 'object' ? JSON.stringify(v) : v)}</dd>`);
  return `<dl>${rows.join('')}</dl>`;
}
