import { IncomingMessage } from 'node:http';
import type { Request } from 'express';
import type { OAuthRequestContext } from '../client/request-context.js';

type MakeClient = (req: Request) => OAuthRequestContext;
const OWNER = Symbol.for('express-oauth2-session.lazyClientOwner');

function defineOwn(req: object, value: unknown): void {
  Object.defineProperty(req, 'oauth', { value, writable: true, configurable: true, enumerable: true });
}

/**
 * `req.oauth` at no per-request cost: a getter on the app's request prototype (Express gives
 * each app its own, `app.request`) builds the client on first access and caches it on that
 * request as an own `oauth` property (later reads never reach the getter). Requests that never
 * touch `req.oauth` get no write and no allocation. (A WeakMap from request to client, tried
 * first, cost ~20 % of a logged-in request's CPU in the paired bench: every entry is an
 * ephemeron the garbage collector has to trace.)
 * Returns false where that is not possible, and the caller assigns per request instead: Node's
 * shared `IncomingMessage.prototype` (plain Connect), or a prototype that another
 * `oauthMiddleware` instance already owns.
 */
export function installLazyClient(proto: object | null, make: MakeClient): boolean {
  if (!proto || proto === IncomingMessage.prototype || proto === Object.prototype) return false;
  const existing = Object.getOwnPropertyDescriptor(proto, 'oauth');
  if (existing) return (existing.get as { [OWNER]?: MakeClient } | undefined)?.[OWNER] === make;
  const get = Object.assign(
    function oauthClient(this: Request): OAuthRequestContext {
      const client = make(this);
      defineOwn(this, client);
      return client;
    },
    { [OWNER]: make },
  );
  Object.defineProperty(proto, 'oauth', {
    get,
    set(this: object, value: unknown) {
      defineOwn(this, value);
    },
    configurable: true,
    enumerable: false,
  });
  return true;
}
