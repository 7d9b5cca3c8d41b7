import type { TokenPlacement } from '../config/options.js';
import { debugFor } from '../debug.js';
import { OAUTH_CODES, OAuthError } from '../errors.js';
import { encodeBody, headersObject, type ApiRequestInit, type OutboundTransport } from './transport.js';

const log = debugFor('http');

/** Where and how a client may send its bearer token. */
export interface ApiTarget {
  readonly apiBaseUrl: string | undefined;
  readonly allowedOrigins: ReadonlySet<string>;
  readonly tokenPlacement: TokenPlacement;
  readonly extraQuery: Readonly<Record<string, string>>;
  readonly apiHeaders: Readonly<Record<string, string>>;
}

/** A request ready to be sent with a token: URL checked against the allow-list, body encoded. */
export interface PreparedRequest {
  url: URL;
  method: string;
  headers: Headers;
  body: RequestInit['body'];
  init: ApiRequestInit;
}

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:/i;

function toUrl(target: ApiTarget, input: string | URL): URL {
  if (input instanceof URL || ABSOLUTE.test(input)) return new URL(input);
  if (!target.apiBaseUrl) {
    throw new OAuthError(OAUTH_CODES.ORIGIN_NOT_ALLOWED, 'A relative URL needs `apiBaseUrl` in the provider config.', { status: 500 });
  }
  return new URL(`${target.apiBaseUrl.replace(/\/$/, '')}/${input.replace(/^\//, '')}`);
}

/** The absolute URL a request goes to (relative ones joined to `apiBaseUrl`), for matching it to a configured API. */
export function resolveRequestHref(target: ApiTarget, input: string | URL): string {
  if (input instanceof URL) return input.href;
  if (!ABSOLUTE.test(input) && !target.apiBaseUrl) return '';
  return toUrl(target, input).href;
}

/** Relative URLs join `apiBaseUrl`; the origin must be allowed; extra and per-call query merged. */
export function resolveApiUrl(target: ApiTarget, input: string | URL, query: ApiRequestInit['query']): URL {
  const url = toUrl(target, input);
  if (!target.allowedOrigins.has(url.origin)) {
    throw new OAuthError(OAUTH_CODES.ORIGIN_NOT_ALLOWED, `Refusing to send the access token to ${url.origin}: not in allowedOrigins.`, { status: 500 });
  }
  for (const [k, v] of Object.entries(target.extraQuery)) url.searchParams.set(k, v);
  if (query) for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
  return url;
}

export function prepareRequest(target: ApiTarget, input: string | URL, init: ApiRequestInit): PreparedRequest {
  const url = resolveApiUrl(target, input, init.query);
  const headers = new Headers(init.headers as HeadersInit | undefined);
  for (const [k, v] of Object.entries(target.apiHeaders)) if (!headers.has(k)) headers.set(k, v);
  const body = encodeBody(init.body, headers);
  return { url, method: (init.method ?? 'GET').toUpperCase(), headers, body, init };
}

/** Send with the token in the Authorization header, or in the query for `tokenPlacement: 'query'`. */
export function sendWithToken(target: ApiTarget, req: PreparedRequest, accessToken: string, transport: OutboundTransport): Promise<Response> {
  const headers = headersObject(req.headers);
  let url = req.url;
  if (target.tokenPlacement === 'query') {
    url = new URL(req.url);
    url.searchParams.set('access_token', accessToken);
  } else {
    headers.authorization = `Bearer ${accessToken}`;
  }
  log('%s %s%s', req.method, req.url.origin, req.url.pathname);
  return transport.send(url, req.method, headers, req.body, req.init);
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** RFC 6750 §3.1 (and RFC 9449 §7.1 for DPoP): the resource server says the token is invalid (expired, revoked). */
export function isInvalidTokenChallenge(res: Response): boolean {
  const challenge = res.headers.get('www-authenticate');
  return challenge !== null && /\b(bearer|dpop)\b/i.test(challenge) && /\berror\s*=\s*"?invalid_token"?/i.test(challenge);
}

/** A body that can be sent again (not a one-shot stream). */
export function hasReplayableBody(req: PreparedRequest): boolean {
  const { body } = req;
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array || body instanceof URLSearchParams || body instanceof ArrayBuffer;
}

/** Idempotent method and a body that can be sent again (not a one-shot stream). */
export function isRetryable(req: PreparedRequest): boolean {
  return IDEMPOTENT.has(req.method) && hasReplayableBody(req);
}

/** `get`/`post`/`put`/`patch`/`delete` on top of a client's `fetch`. */
export abstract class BearerMethods {
  abstract fetch(url: string | URL, init?: ApiRequestInit): Promise<Response>;

  get(url: string | URL, init?: Omit<ApiRequestInit, 'method'>): Promise<Response> {
    return this.fetch(url, { ...init, method: 'GET' });
  }

  post(url: string | URL, init?: Omit<ApiRequestInit, 'method'>): Promise<Response> {
    return this.fetch(url, { ...init, method: 'POST' });
  }

  put(url: string | URL, init?: Omit<ApiRequestInit, 'method'>): Promise<Response> {
    return this.fetch(url, { ...init, method: 'PUT' });
  }

  patch(url: string | URL, init?: Omit<ApiRequestInit, 'method'>): Promise<Response> {
    return this.fetch(url, { ...init, method: 'PATCH' });
  }

  delete(url: string | URL, init?: Omit<ApiRequestInit, 'method'>): Promise<Response> {
    return this.fetch(url, { ...init, method: 'DELETE' });
  }
}
