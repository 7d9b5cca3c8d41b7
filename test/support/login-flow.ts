import type { Agent } from 'supertest';
import { authorizeWithoutBrowser } from 'express-oauth2-session/testing';

export { authorizeWithoutBrowser as loginWithoutBrowser };

/** The app-relative path+query of an absolute callback URL. */
export function pathOf(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}

/** GET /login on the app, walk the AS's login + consent pages, and return the callback URL (not yet visited). */
export async function authorize(agent: Agent, options: { user?: string; loginPath?: string; consent?: boolean } = {}) {
  const start = await agent.get(options.loginPath ?? '/login').expect(302);
  const authorizationUrl = start.headers.location as string;
  const result = await authorizeWithoutBrowser(authorizationUrl, { user: options.user ?? 'alice', consent: options.consent });
  return { authorizationUrl, ...result };
}

/** Full login: /login → AS → /callback; returns the callback response (303). */
export async function login(agent: Agent, options: { user?: string; loginPath?: string } = {}) {
  const { callbackUrl } = await authorize(agent, options);
  return agent.get(pathOf(callbackUrl)).expect(303);
}

/** The `name=value` session cookie a response set (to replay it from another client or process). */
export function sessionCookie(res: { headers: Record<string, unknown> }): string {
  const set = res.headers['set-cookie'];
  const first = Array.isArray(set) ? set.find((c: string) => c.startsWith('connect.sid=')) : undefined;
  if (!first) throw new Error('the response set no connect.sid cookie');
  return (first as string).split(';')[0] as string;
}
