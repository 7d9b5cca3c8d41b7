import type { OAuthRequestContext } from './client/request-context.js';
import type { OAuthSessionData } from './session/session-data.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by `oauthMiddleware()`: the request context, this user's OAuth clients (see OAuthRequestContext). */
      oauth: OAuthRequestContext;
    }
  }
}

declare module 'express-session' {
  interface SessionData {
    /** express-oauth2-session's login transactions and login markers (never tokens). */
    oauth?: OAuthSessionData;
  }
}

export {};
