import { NetworkError, OAUTH_CODES, TimeoutError, TokenEndpointError } from '../errors.js';
import type { TokenEndpointAuthMethod } from '../config/options.js';

// simple-oauth2 makes every token-endpoint call (client authentication, form encoding, transport).
// We use its Client directly rather than the grant classes: the grant classes parse the body
// strictly as JSON and drop non-JSON answers (GitHub without Accept, Stack Exchange) and the HTTP
// status, both of which we need to classify errors. The version is pinned exactly; the unit test
// token-endpoint.test.ts fails if this internal path changes.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Client } = require('simple-oauth2/lib/client') as {
  Client: new (config: unknown) => { request(path: string, params: Record<string, string>, httpOptions: unknown): Promise<unknown> };
};

const MAX_BODY_BYTES = 1024 * 1024;

export interface TokenClientConfig {
  clientId: string;
  clientSecret: string | undefined;
  authMethod: TokenEndpointAuthMethod;
  /** Extra headers for every call (e.g. a provider that needs Accept or User-Agent). */
  headers?: Readonly<Record<string, string>>;
  timeoutMs: number;
}

export type TokenEndpointBody = Record<string, unknown>;

const clients = new WeakMap<TokenClientConfig, Map<string, InstanceType<typeof Client>>>();

function clientFor(config: TokenClientConfig, origin: string): InstanceType<typeof Client> {
  let byOrigin = clients.get(config);
  if (!byOrigin) clients.set(config, (byOrigin = new Map()));
  let client = byOrigin.get(origin);
  if (!client) {
    const none = config.authMethod === 'none';
    client = new Client({
      // A public client sends only client_id: naming both parameters client_id makes simple-oauth2
      // write the id twice instead of adding an empty client_secret.
      client: {
        id: config.clientId,
        secret: none ? config.clientId : (config.clientSecret ?? ''),
        idParamName: 'client_id',
        secretParamName: none ? 'client_id' : 'client_secret',
      },
      auth: { tokenHost: origin },
      options: {
        authorizationMethod: config.authMethod === 'client_secret_basic' ? 'header' : 'body',
        bodyFormat: 'form',
        credentialsEncodingMode: 'strict',
        scopeSeparator: ' ',
      },
      http: {},
    });
    byOrigin.set(origin, client);
  }
  return client;
}

/** Parse a token-endpoint body: JSON, or form-encoded from providers that ignore Accept. */
export function parseTokenBody(raw: unknown): TokenEndpointBody | undefined {
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : undefined;
  if (text === undefined) return typeof raw === 'object' && raw !== null ? (raw as TokenEndpointBody) : undefined;
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

const SAFE_ERROR = /^[\x20-\x21\x23-\x5B\x5D-\x7E]{1,64}$/;

function statusForError(error: string): number {
  if (error === 'invalid_grant' || error === 'bad_verification_code') return 400;
  if (error === 'invalid_client' || error === 'unauthorized_client' || error === 'incorrect_client_credentials') return 500;
  if (error === 'temporarily_unavailable') return 503;
  return 502;
}

const MAX_RETRY_AFTER_MS = 60_000;

/** RFC 9110 §10.2.3 Retry-After: seconds or an HTTP date; capped, garbage ignored. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const ms = /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : undefined;
}

function errorFromBody(body: TokenEndpointBody | undefined, httpStatus: number, cause?: unknown, retryAfterMs?: number): TokenEndpointError {
  const error = typeof body?.error === 'string' && SAFE_ERROR.test(body.error) ? body.error : undefined;
  if (!error) {
    return new TokenEndpointError(`The token endpoint answered HTTP ${httpStatus} without a valid OAuth error body.`, {
      status: 502,
      code: OAUTH_CODES.INVALID_TOKEN_RESPONSE,
      cause,
      retryAfterMs,
    });
  }
  const description = typeof body?.error_description === 'string' ? body.error_description.slice(0, 300) : undefined;
  return new TokenEndpointError(`The token endpoint rejected the request with "${error}" (HTTP ${httpStatus}).`, {
    status: statusForError(error),
    error,
    errorDescription: description,
    cause,
    retryAfterMs,
  });
}

interface BoomLike {
  isBoom?: boolean;
  output?: { statusCode?: number };
  data?: { isResponseError?: boolean; res?: { statusCode?: number; headers?: Record<string, string | undefined> }; payload?: unknown };
  code?: string;
}

function translateTransportError(err: unknown, url: string): Error {
  const e = err as BoomLike;
  const where = new URL(url).origin;
  if (e?.data?.isResponseError) {
    const status = e.data.res?.statusCode ?? 502;
    // Drop the Boom error as cause: its data holds the raw request including client credentials.
    return errorFromBody(parseTokenBody(e.data.payload), status, undefined, parseRetryAfter(e.data.res?.headers?.['retry-after']));
  }
  const status = e?.output?.statusCode;
  if (status === 504) return new TimeoutError(`The token endpoint at ${where} did not answer in time.`);
  // Over maxBytes Wreck destroys the response; that surfaces as 413 or as "closed prematurely".
  const declared = Number(e?.data?.res?.headers?.['content-length'] ?? 0);
  if (status === 413 || declared > MAX_BODY_BYTES) {
    return new TokenEndpointError(`The token endpoint at ${where} sent an oversized body.`, { status: 502, code: OAUTH_CODES.INVALID_TOKEN_RESPONSE });
  }
  return new NetworkError(`The connection to the token endpoint at ${where} failed or its answer broke off.`);
}

/**
 * POST to a token or revocation endpoint (RFC 6749 §3.2, RFC 7009) with client authentication, and
 * return the parsed body. HTTP errors, `error` in a 200 body, timeouts and garbage become
 * `TokenEndpointError` / `TimeoutError` / `NetworkError` with no secret in the message.
 */
export async function postTokenEndpoint(
  config: TokenClientConfig,
  url: string,
  params: Record<string, string>,
  options: { expectBody?: boolean } = {},
): Promise<TokenEndpointBody> {
  const target = new URL(url);
  const client = clientFor(config, target.origin);
  let raw: unknown;
  try {
    raw = await client.request(target.pathname + target.search, params, {
      json: false,
      timeout: config.timeoutMs,
      maxBytes: MAX_BODY_BYTES,
      redirects: false,
      headers: { ...config.headers },
    });
  } catch (err) {
    throw translateTransportError(err, url);
  }
  if (options.expectBody === false) return {};
  const body = parseTokenBody(raw);
  if (!body) {
    throw new TokenEndpointError('The token endpoint answered with a body that is neither JSON nor form-encoded.', {
      status: 502,
      code: OAUTH_CODES.INVALID_TOKEN_RESPONSE,
    });
  }
  if (body.error !== undefined) throw errorFromBody(body, 200);
  return body;
}

export function exchangeCode(
  config: TokenClientConfig,
  tokenUrl: string,
  grant: { code: string; redirectUri: string; codeVerifier?: string },
): Promise<TokenEndpointBody> {
  const params: Record<string, string> = { grant_type: 'authorization_code', code: grant.code, redirect_uri: grant.redirectUri };
  if (grant.codeVerifier) params.code_verifier = grant.codeVerifier;
  return postTokenEndpoint(config, tokenUrl, params);
}

export function refreshGrant(config: TokenClientConfig, tokenUrl: string, refreshToken: string): Promise<TokenEndpointBody> {
  return postTokenEndpoint(config, tokenUrl, { grant_type: 'refresh_token', refresh_token: refreshToken });
}

export function clientCredentialsGrant(
  config: TokenClientConfig,
  tokenUrl: string,
  extra: Record<string, string> = {},
): Promise<TokenEndpointBody> {
  return postTokenEndpoint(config, tokenUrl, { ...extra, grant_type: 'client_credentials' });
}

/** RFC 7009 revocation; success has an empty body. */
export async function revokeToken(
  config: TokenClientConfig,
  revocationUrl: string,
  token: string,
  hint: 'access_token' | 'refresh_token',
): Promise<void> {
  await postTokenEndpoint(config, revocationUrl, { token, token_type_hint: hint }, { expectBody: false });
}
