// The one check of `responseMode` (OAuth 2.0 Multiple Response Type Encoding Practices §2.1,
// OAuth 2.0 Form Post Response Mode, JARM): which modes exist and what each needs of the config.
import { isLoopbackUrl, type OptionPath } from './assert.js';

/**
 * How the provider returns the authorization response: `query` (a redirect), `form_post` (a
 * cross-site POST) or `jwt` (JARM: a redirect whose one `response` parameter is a signed JWT).
 */
export type ResponseMode = 'query' | 'form_post' | 'jwt';

/** The modes `responseMode` accepts (a later mode is added here and nowhere else in config). */
export const RESPONSE_MODES: readonly ResponseMode[] = Object.freeze(['query', 'form_post', 'jwt']);

/**
 * `responseMode`, default `query`. `form_post` binds the login to a `SameSite=None; Secure` cookie,
 * which browsers keep only over https: an http redirect URI is refused unless its host is loopback
 * (local development, where Chromium and Firefox treat http://localhost as secure). `jwt` needs
 * `issuer` (the response is verified against its keys). The `response_mode` authorization
 * parameter is owned by this option.
 */
export function resolveResponseMode(value: unknown, at: OptionPath, redirectUri: URL, authorizationParams: Readonly<Record<string, string>>, issuer: URL | undefined): ResponseMode {
  if (authorizationParams.response_mode !== undefined) {
    throw at.key('authorizationParams').key('response_mode').error('is set by the package: use the `responseMode` option');
  }
  if (value === undefined) return 'query';
  if (!RESPONSE_MODES.includes(value as ResponseMode)) throw at.key('responseMode').error(`must be one of ${RESPONSE_MODES.map((m) => `"${m}"`).join(', ')}`);
  const mode = value as ResponseMode;
  if (mode === 'form_post' && redirectUri.protocol !== 'https:' && !isLoopbackUrl(redirectUri)) {
    throw at.key('responseMode').error('"form_post" needs an https `redirectUri` (its binding cookie is SameSite=None; Secure); plain http only on loopback hosts');
  }
  if (mode === 'jwt' && !issuer) throw at.key('responseMode').error('"jwt" needs `issuer`: the response is verified against its keys');
  return mode;
}
