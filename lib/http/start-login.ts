import type { Request } from 'express';
import type { ProviderLink } from '../client/provider-link.js';
import { debugFor } from '../debug.js';
import { buildAuthorizationRedirect } from '../protocol/par.js';
import { randomCodeVerifier, randomState } from '../protocol/pkce.js';
import type { LoginStore } from '../session/login-store.js';
import type { LoginTransaction, StepUpRequest } from '../session/session-data.js';

const log = debugFor('login');

/** What one login asks the provider for. */
export interface LoginStart {
  /** Validated same-origin path to return to. */
  returnTo: string;
  scope: readonly string[];
  params: Readonly<Record<string, string>>;
  /** Set by requireAuth for a step-up or incremental login; kept on the login it produces. */
  stepUp?: StepUpRequest;
}

/**
 * Begin a login: a new transaction (state, PKCE verifier, nonce when the scope has `openid`) saved
 * in the session, and the authorization URL to redirect the browser to (RFC 6749 §4.1.1).
 */
export async function beginLogin(link: ProviderLink, logins: LoginStore, req: Request, start: LoginStart): Promise<string> {
  const { provider } = link;
  const endpoints = await link.endpoints();
  const state = randomState();
  const codeVerifier = provider.pkce ? randomCodeVerifier() : undefined;
  const nonce = start.scope.includes('openid') ? randomState() : undefined;
  const tx: LoginTransaction = { p: provider.name, v: codeVerifier, n: nonce, r: start.returnTo, t: Date.now() };
  if (start.stepUp) tx.u = start.stepUp;
  await logins.begin(req, state, tx);
  log(start.stepUp ? 'step-up login started for %s' : 'login started for %s', provider.name);
  return buildAuthorizationRedirect(
    {
    authorizationUrl: endpoints.authorizationUrl,
    clientId: provider.clientId,
    redirectUri: provider.redirectUri,
    scope: start.scope,
    state,
    codeVerifier,
    nonce,
    params: start.params,
    },
    link.pushedAuthorization(endpoints),
  );
}

/** What requireAuth needs to start a login of one provider itself. */
export interface LoginStarter {
  link: ProviderLink;
  logins: LoginStore;
  postLoginRedirect: string;
}

/**
 * Login starters by `req.oauth`'s class (one per middleware instance) and provider name. Private to
 * this module: nothing reachable from `req.oauth` leads to a provider's link or its secrets.
 */
const starters = new WeakMap<object, ReadonlyMap<string, LoginStarter>>();

/** Called once by the middleware factory. */
export function registerLoginStarters(contextClass: object, links: Iterable<ProviderLink>, logins: LoginStore, postLoginRedirect: string): void {
  starters.set(contextClass, new Map([...links].map((link) => [link.name, { link, logins, postLoginRedirect }] as const)));
}

/** The login starter of `provider` for the middleware that made `context` (`req.oauth`). */
export function loginStarterFor(context: object, provider: string): LoginStarter | undefined {
  return starters.get(context.constructor)?.get(provider);
}
