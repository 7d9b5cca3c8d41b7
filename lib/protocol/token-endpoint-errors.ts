import { NetworkError, OAUTH_CODES, TimeoutError, TokenEndpointError } from '../errors.js';

/** Response bodies above this size are cut off by the transport and reported as 502. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Longest `error_description` kept (characters); longer ones are cut. */
export const MAX_ERROR_DESCRIPTION = 300;
/** Longest `error_uri` kept; longer ones are dropped. */
export const MAX_ERROR_URI = 512;
const MAX_RETRY_AFTER_MS = 60_000;
/** Shared runs of this length with a secret count as a leak (a token's tail or head is still a leak). */
const LEAK_WINDOW = 12;

/** A parsed token-endpoint body (JSON object or form fields). */
export type TokenEndpointBody = Record<string, unknown>;

/** Parse a token-endpoint body: JSON, or form-encoded from providers that ignore Accept. */
export function parseTokenBody(raw: unknown): TokenEndpointBody | undefined {
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : undefined;
  if (text === undefined) return typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as TokenEndpointBody) : undefined;
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as TokenEndpointBody) : undefined;
    } catch {
      return undefined;
    }
  }
  if (/^[\w.~%+-]+=[^&]*(&[\w.~%+-]+=[^&]*)*$/.test(trimmed)) return Object.fromEntries(new URLSearchParams(trimmed));
  return undefined;
}

/** RFC 9110 §10.2.3 Retry-After: seconds or an HTTP date; capped at 60 s, garbage ignored. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const ms = /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : undefined;
}

/**
 * True when `text` contains any of `secrets`, or a run of 12+ characters of one (a partial echo
 * is still a leak). Empty secrets are ignored.
 */
export function containsSecret(text: string, secrets: ReadonlyArray<string | undefined>): boolean {
  for (const secret of secrets) {
    if (!secret) continue;
    if (text.includes(secret)) return true;
    if (secret.length <= LEAK_WINDOW) continue;
    for (let i = 0; i + LEAK_WINDOW <= text.length; i++) {
      if (secret.includes(text.slice(i, i + LEAK_WINDOW))) return true;
    }
  }
  return false;
}

/**
 * RFC 6749 §5.2 `error_description`: only %x20-21 / %x23-5B / %x5D-7E, so anything else (CR, LF,
 * NUL, quotes, backslashes, non-ASCII) becomes `?`; cut to 300 characters; dropped when it echoes
 * a secret the request carried.
 */
export function safeErrorDescription(value: unknown, secrets: ReadonlyArray<string | undefined>): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined;
  if (containsSecret(value, secrets)) return undefined;

  return value.slice(0, MAX_ERROR_DESCRIPTION).replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '?');
}

/** RFC 6749 §5.2 `error_uri`: an absolute http(s) URI in its charset, ≤ 512 chars, no secret; else dropped. */
export function safeErrorUri(value: unknown, secrets: ReadonlyArray<string | undefined>): string | undefined {
  if (typeof value !== 'string' || value.length > MAX_ERROR_URI || !/^https?:\/\/[\x21\x23-\x5B\x5D-\x7E]+$/.test(value)) return undefined;
  return containsSecret(value, secrets) ? undefined : value;
}

const SAFE_ERROR = /^[\x20-\x21\x23-\x5B\x5D-\x7E]{1,64}$/;

function statusForError(error: string): number {
  if (error === 'invalid_grant' || error === 'bad_verification_code') return 400;
  if (error === 'invalid_client' || error === 'unauthorized_client' || error === 'incorrect_client_credentials') return 500;
  if (error === 'temporarily_unavailable') return 503;
  return 502;
}

/** A 502 for a body that is not a usable token response; the message never quotes the body. */
export function invalidTokenResponse(message: string): TokenEndpointError {
  return new TokenEndpointError(message, { status: 502, code: OAUTH_CODES.INVALID_TOKEN_RESPONSE });
}

/**
 * The single translation point for RFC 6749 §5.2 error bodies. `secrets` are the values the request
 * carried (client secret, code, verifier, refresh token, password, revoked token): an `error`,
 * `error_description` or `error_uri` echoing one of them is not kept.
 */
export function errorFromBody(
  body: TokenEndpointBody | undefined,
  httpStatus: number,
  secrets: ReadonlyArray<string | undefined>,
  retryAfterMs?: number,
  endpoint = 'token endpoint',
): TokenEndpointError {
  const raw = body?.error;
  const error = typeof raw === 'string' && SAFE_ERROR.test(raw) && !containsSecret(raw, secrets) ? raw : undefined;
  if (!error) {
    return new TokenEndpointError(`The ${endpoint} answered HTTP ${httpStatus} without a valid OAuth error body.`, {
      status: 502,
      code: OAUTH_CODES.INVALID_TOKEN_RESPONSE,
      retryAfterMs,
    });
  }
  return new TokenEndpointError(`The ${endpoint} rejected the request with "${error}" (HTTP ${httpStatus}).`, {
    status: statusForError(error),
    error,
    errorDescription: safeErrorDescription(body?.error_description, secrets),
    errorUri: safeErrorUri(body?.error_uri, secrets),
    retryAfterMs,
  });
}

/** Message for a 2xx body that is neither a JSON object nor form fields. */
export const NOT_A_BODY = 'The token endpoint answered with a body that is neither JSON nor form-encoded.';

/** The parts of a Boom error (simple-oauth2's documented error type, raised by Wreck) we read. */
interface BoomLike {
  isBoom?: boolean;
  output?: { statusCode?: number };
  data?: {
    isResponseError?: boolean;
    res?: { statusCode?: number; headers?: Record<string, string | undefined> };
    payload?: unknown;
  } | null;
}

/** A Boom error (simple-oauth2 documents that it raises Boom errors for client and server errors). */
export function isBoom(err: unknown): err is BoomLike {
  return typeof err === 'object' && err !== null && (err as BoomLike).isBoom === true;
}

/**
 * Map a failed simple-oauth2 call to our errors. The Boom error is never kept as `cause`: its `data`
 * holds the raw request, including client credentials. One case is not a failure: a 2xx body that
 * is form-encoded rather than JSON (providers that ignore `Accept`) comes back as `{ body }`.
 */
export function translateTransportError(err: unknown, url: string, secrets: ReadonlyArray<string | undefined>): Error | { body: TokenEndpointBody } {
  const e = isBoom(err) ? err : {};
  const where = new URL(url).origin;
  const status = e.output?.statusCode;
  if (e.data?.res && Buffer.isBuffer(e.data.payload) && !e.data.isResponseError) {
    // The body was read but is not JSON (Wreck `json: 'force'`): a form-encoded or garbage answer.
    const httpStatus = e.data.res.statusCode ?? 502;
    const body = parseTokenBody(e.data.payload);
    if (httpStatus >= 400) return errorFromBody(body, httpStatus, secrets, parseRetryAfter(e.data.res.headers?.['retry-after']));
    return body ? { body } : invalidTokenResponse(NOT_A_BODY);
  }
  if (e.data?.isResponseError) {
    const status = e.data.res?.statusCode ?? 502;
    return errorFromBody(parseTokenBody(e.data.payload), status, secrets, parseRetryAfter(e.data.res?.headers?.['retry-after']));
  }
  if (status === 504) return new TimeoutError(`The token endpoint at ${where} did not answer in time.`);
  // Over maxBytes Wreck destroys the response; that surfaces as 413 or as "closed prematurely".
  const declared = Number(e.data?.res?.headers?.['content-length'] ?? 0);
  if (status === 413 || declared > MAX_BODY_BYTES) return invalidTokenResponse(`The token endpoint at ${where} sent an oversized body.`);
  return new NetworkError(`The connection to the token endpoint at ${where} failed or its answer broke off.`);
}
