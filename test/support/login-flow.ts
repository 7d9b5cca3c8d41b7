import type { Agent } from 'supertest';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { loginWithoutBrowser } = require('./login.cjs') as {
  loginWithoutBrowser: (url: string, o?: { user?: string; consent?: boolean; jar?: unknown }) => Promise<{ callbackUrl: string; code?: string; state?: string; error?: string; params: URLSearchParams; jar: unknown }>;
};

export { loginWithoutBrowser };

/** The app-relative path+query of an absolute callback URL. */
export function pathOf(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}

/** GET /login on the app, walk the AS's login + consent pages, and return the callback URL (not yet visited). */
export async function authorize(agent: Agent, options: { user?: string; loginPath?: string; consent?: boolean } = {}) {
  const start = await agent.get(options.loginPath ?? '/login').expect(302);
  const authorizationUrl = start.headers.location as string;
  const result = await loginWithoutBrowser(authorizationUrl, { user: options.user ?? 'alice', consent: options.consent });
  return { authorizationUrl, ...result };
}

/** Full login: /login → AS → /callback; returns the callback response (303). */
export async function login(agent: Agent, options: { user?: string; loginPath?: string } = {}) {
  const { callbackUrl } = await authorize(agent, options);
  return agent.get(pathOf(callbackUrl)).expect(303);
}
