import './augment.js';

/**
 * Declare your provider names to type `req.oauth.<name>` (several providers):
 * `declare module 'express-oauth2-session' { interface Register { providers: 'github' | 'google' } }`
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface Register {}

export { oauthMiddleware, type OAuthMiddleware } from './http/middleware.js';
export { requireAuth, type RequireAuthOptions } from './http/require-auth.js';
export type { ClaimsRequirement } from './http/access-rules.js';
export { oauthErrorHandler } from './http/error-handler.js';
export {
  OAuthError,
  InvalidCallbackError,
  AuthorizationResponseError,
  TokenEndpointError,
  ReauthenticationRequiredError,
  NetworkError,
  TimeoutError,
  SessionUnavailableError,
  ApiChallengeError,
  OAUTH_CODES,
  ERR_OAUTH_CONFIG,
  isOAuthError,
  type OAuthErrorCode,
  type OAuthErrorOptions,
  type ApiChallenge,
  type ApiChallengeBody,
  type ErrorDiagnosis,
} from './errors.js';
export type { Lease, LockCallOptions, RefreshLock } from './session/lock.js';
export { guardSessionStore } from './session/store-guard.js';
export { redisLock, type RedisClientLike, type RedisLockOptions, type RedisLockStats, type RedisRefreshLock } from './session/redis-lock.js';
export { providers, type BattleNetRegion, type ProviderPreset } from './config/providers.js';
export { clientCredentials } from './client/client-credentials.js';
export { passwordGrant, type PasswordGrantOptions } from './client/password-grant.js';
export type { GrantClient } from './client/grant-client.js';
export type {
  OAuthMiddlewareOptions,
  SingleProviderOptions,
  MultiProviderOptions,
  CommonOptions,
  ProviderOptions,
  RouteOptions,
  BackchannelLogoutOptions,
  FrontchannelLogoutOptions,
  BackendClientOptions,
  TokensEvent,
  TokenEndpointAuthMethod,
  TokenPlacement,
  ClientAssertionAlg,
  ClientAssertionKeyInput,
  FetchLike,
  ApiOptions,
  ApiExchangeOptions,
  FapiProfile,
  TlsClientCertificate,
  PemInput,
} from './config/options.js';
export type { ApiClient } from './client/api-client.js';
export type { ExchangeRequest } from './client/api-grants.js';
export type { ResponseMode } from './config/response-mode.js';
export type { TokenSet } from './protocol/token-set.js';
export type { OAuthRequestContext, RequestContext, RegisteredProviderName } from './client/request-context.js';
export type { ProviderClient } from './client/provider-client.js';
export type { OAuthUser } from './client/provider-client.js';
export type { LoginOptions } from './client/login-request.js';
export type { ApiRequestInit } from './client/transport.js';
export type { OAuthSessionData } from './session/session-data.js';
export type { OAuthEvents, OAuthEventEmitter } from './events.js';
