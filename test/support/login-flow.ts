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
