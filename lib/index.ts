import './augment.js';

/**
 * Declare your provider names to type `req.oauth.<name>` (several providers):
 * `declare module 'express-oauth2-session' { interface Register { providers: 'github' | 'google' } }`
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface Register {}

export { oauthMiddleware, type OAuthMiddleware } from './middleware.js';
export { requireAuth, oauthErrorHandler, type RequireAuthOptions } from './require-auth.js';
export {
  OAuthError,
  InvalidCallbackError,
  AuthorizationResponseError,
  TokenEndpointError,
  ReauthenticationRequiredError,
  NetworkError,
  TimeoutError,
  SessionUnavailableError,
  OAUTH_CODES,
  ERR_OAUTH_CONFIG,
  isOAuthError,
  type OAuthErrorCode,
} from './errors.js';
export type { RefreshLock } from './lock.js';
export { guardSessionStore } from './store-guard.js';
export { redisLock, type RedisClientLike, type RedisLockOptions } from './redis-lock.js';
export { providers, type ProviderPreset, type BattleNetRegion } from './providers.js';
export { clientCredentials } from './client-credentials.js';
export { passwordGrant, type PasswordGrantOptions } from './password-grant.js';
export type { GrantClient, BackendClientOptions } from './grant-client.js';
export type {
  OAuthMiddlewareOptions,
  ProviderOptions,
  RouteOptions,
  TokensEvent,
  TokenEndpointAuthMethod,
  TokenPlacement,
  FetchLike,
} from './config-types.js';
export type { TokenSet } from './tokens.js';
export type { OAuthRequestContext, RequestContext, RegisteredProviderName } from './request-context.js';
export type { ProviderClient, OAuthUser } from './client.js';
export type { ApiRequestInit } from './http/api-request.js';
export type { OAuthSessionData, LoginMarker, LoginTransaction } from './session-state.js';
export type { OAuthEvents, OAuthEventName } from './events.js';
