import { OAUTH_CODES, OAuthError } from '../errors.js';

/**
 * The one reader of every response body the package itself reads (discovery, JWKS, UserInfo, PAR,
 * revocation; the token endpoint is capped by Wreck's `maxBytes`). It reads the body's stream and
 * stops at its cap: a declared `Content-Length` above the cap is refused before any byte is read,
 * and a body that grows past it is cancelled at the first chunk that crosses it (the rest is never
 * read, so a hostile provider's answer costs at most the cap plus one chunk of memory). Caps per
 * endpoint are listed in SECURITY.md.
 */

/** Caps (bytes, after content decoding) of the bodies the package reads. */
export const BODY_LIMITS = Object.freeze({
  /** OIDC Discovery / RFC 8414 metadata: a few KiB in practice. */
  discovery: 256 * 1024,
  /** A JWK set: a handful of public keys (with certificate chains, tens of KiB). */
  jwks: 256 * 1024,
  /** Claims about one user. */
  userinfo: 64 * 1024,
  /** RFC 9126: `request_uri` and `expires_in`, or an OAuth error. */
  par: 16 * 1024,
  /** RFC 9728 protected-resource metadata: a resource, its authorization servers, a few lists. */
  resourceMetadata: 64 * 1024,
  /** RFC 7009: the body is ignored; at most this much is drained to keep the connection. */
  revocation: 16 * 1024,
});

function kib(bytes: number): string {
  return `${Math.round(bytes / 1024)} KiB`;
}

/** The typed error of a body over its cap: 502 `OAUTH_RESPONSE_TOO_LARGE`, naming the endpoint. */
export function responseTooLarge(what: string, limit: number): OAuthError {
  return new OAuthError(OAUTH_CODES.RESPONSE_TOO_LARGE, `The ${what} response is larger than ${kib(limit)}; it was not read further.`, { status: 502 });
}

async function cancel(res: Response, reader?: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  try {
    await (reader ? reader.cancel() : res.body?.cancel());
  } catch {
    // already ended or errored: nothing left to release
  }
}

/**
 * The body's bytes, at most `limit` of them. Over the cap: the stream is cancelled and
 * `tooLarge()` (default {@link responseTooLarge}) is thrown. Stream errors (a deadline, a reset)
 * pass through unchanged for the caller to classify.
 */
export async function readBoundedBytes(res: Response, limit: number, what: string, tooLarge: () => OAuthError = () => responseTooLarge(what, limit)): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  // A declared length is only trusted for refusing: a decoded body is longer than its encoding.
  if (Number.isFinite(declared) && declared > limit && !res.headers.has('content-encoding')) {
    await cancel(res);
    throw tooLarge();
  }
  const body = res.body;
  if (!body) return new Uint8Array(0);
  const reader = body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await cancel(res, reader);
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

const decoder = new TextDecoder();

/** The body as UTF-8 text, read through {@link readBoundedBytes}. */
export async function readBoundedText(res: Response, limit: number, what: string, tooLarge?: () => OAuthError): Promise<string> {
  return decoder.decode(await readBoundedBytes(res, limit, what, tooLarge));
}

/** The body parsed as JSON, read through {@link readBoundedBytes} (a parse error is a `SyntaxError`). */
export async function readBoundedJson(res: Response, limit: number, what: string, tooLarge?: () => OAuthError): Promise<unknown> {
  return JSON.parse(await readBoundedText(res, limit, what, tooLarge)) as unknown;
}

/**
 * Drop a body the caller does not need (revocation): read at most `limit` bytes so a small answer
 * leaves the connection reusable, cancel anything longer. Never throws.
 */
export async function drainBounded(res: Response, limit: number, what: string): Promise<void> {
  await readBoundedBytes(res, limit, what).catch(() => undefined);
}
