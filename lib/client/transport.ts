import { Readable } from 'node:stream';
import { Agent as HttpsAgent } from 'node:https';
import { Agent, request as undiciRequest, type Dispatcher } from 'undici';
import { DEFAULT_HTTP_TIMEOUT_MS } from '../config/assert.js';
import type { FetchLike, TlsClientCertificate } from '../config/options.js';
import { OAUTH_CODES, OAuthError, TimeoutError } from '../errors.js';
import { BufferedResponse } from './buffered-response.js';
import { decode, decodersFor, toWebStream } from './body-stream.js';
import { DISABLED_TELEMETRY, type Telemetry } from '../telemetry/telemetry.js';

/** `RequestInit` plus `query` (merged into the URL) and plain-object bodies sent as JSON. */
export interface ApiRequestInit extends Omit<RequestInit, 'body'> {
  body?: RequestInit['body'] | Record<string, unknown> | unknown[];
  query?: Record<string, string | number | boolean | undefined>;
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
/** Bodies that declare at most this length are read at once (the fast path), within the body deadline. */
export const BUFFER_LIMIT = 256 * 1024;

function isPlainJson(body: unknown): body is Record<string, unknown> | unknown[] {
  if (Array.isArray(body)) return true;
  if (typeof body !== 'object' || body === null) return false;
  const proto = Object.getPrototypeOf(body);
  return proto === Object.prototype || proto === null;
}

/** Normalise a body and set its content type, as fetch would. */
export function encodeBody(body: ApiRequestInit['body'], headers: Headers): RequestInit['body'] {
  if (body === undefined || body === null) return undefined;
  if (isPlainJson(body)) {
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    return JSON.stringify(body);
  }
  return body as RequestInit['body'];
}

type UndiciBody = Dispatcher.DispatchOptions['body'];

function toUndiciBody(body: RequestInit['body'], headers: Record<string, string>): UndiciBody {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof URLSearchParams) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    return body.toString();
  }
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ReadableStream) return Readable.fromWeb(body as never);
  return body as UndiciBody;
}

/**
 * A small body (declared length within {@link BUFFER_LIMIT}) read at once, started as soon as the
 * headers are in: it must arrive within `deadlineMs`, or the body is destroyed with a
 * `TimeoutError` (a server that declares more than it sends cannot hold the call). The caller's
 * `signal` ends it earlier (undici destroys the body on abort). undici never reads past the
 * declared length.
 */
function readSmallBody(body: Dispatcher.ResponseData['body'], deadlineMs: number): Promise<Uint8Array<ArrayBuffer>> {
  const timer = setTimeout(() => body.destroy(new TimeoutError(`The response body did not arrive within ${deadlineMs} ms.`)), deadlineMs);
  const bytes = body.arrayBuffer().then(
    (buffer) => {
      clearTimeout(timer);
      return new Uint8Array(buffer);
    },
    (err: unknown) => {
      clearTimeout(timer);
      throw err;
    },
  );
  // Read or not, a failure here must not become an unhandled rejection: readers still see it.
  bytes.catch(() => undefined);
  return bytes;
}

/** A `Headers` as a plain object with lower-case names (what undici takes without re-validating). */
export function headersObject(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, key) => {
    out[key] = value;
  });
  return out;
}

/**
 * The outbound HTTP client of one owner (a middleware instance, or one backend grant client):
 * the `fetch` option when given, else undici with this owner's own keep-alive pool (undici's Agent
 * keeps a Pool per origin), made on first use and released by `close()`. Redirects are never
 * followed, so the Authorization header cannot travel to another origin.
 */
export class OutboundTransport {
  readonly #custom: FetchLike | undefined;
  readonly #bodyDeadlineMs: number;
  readonly #tls: Readonly<TlsClientCertificate> | undefined;
  #agent: Agent | undefined;
  #httpsAgent: HttpsAgent | undefined;
  /** The owner's spans and metrics: a CLIENT span per request when enabled. */
  readonly telemetry: Telemetry;
  /**
   * The transport as a fetch-compatible function: discovery, JWKS, revocation and PAR use it.
   * The `fetch` option itself when given, else the pooled path.
   */
  readonly fetch: FetchLike;

  /**
   * @param custom the `fetch` option, when given (then it does the HTTP, decoding included).
   * @param bodyDeadlineMs `httpTimeoutMs`: how long a small body (the buffered fast path) may take
   *   to arrive once the headers are in.
   * @param telemetry the owner's spans: each request becomes an HTTP CLIENT span when enabled.
   * @param tls RFC 8705: the client certificate every TLS connection presents (never with `custom`:
   *   the config refuses the `fetch` option beside `tlsClientCertificate`).
   */
  constructor(custom?: FetchLike, bodyDeadlineMs = DEFAULT_HTTP_TIMEOUT_MS, telemetry: Telemetry = DISABLED_TELEMETRY, tls?: Readonly<TlsClientCertificate>) {
    if (custom && tls) throw new TypeError('OutboundTransport: a custom fetch cannot present a TLS client certificate');
    this.#custom = custom;
    this.#bodyDeadlineMs = bodyDeadlineMs;
    this.#tls = tls;
    this.telemetry = telemetry;
    const tracedCustom: FetchLike | undefined =
      custom && telemetry.enabled ? (input, init = {}) => telemetry.httpRequest((init.method ?? 'GET').toUpperCase(), new URL(input), () => custom(input, init)) : custom;
    this.fetch = tracedCustom ?? ((input, init = {}) => this.send(new URL(input), (init.method ?? 'GET').toUpperCase(), new Headers(init.headers), init.body, init as ApiRequestInit));
  }

  #dispatcher(): Agent {
    this.#agent ??= new Agent({ keepAliveTimeout: 10_000, connections: 128, ...(this.#tls ? { connect: tlsOptions(this.#tls) } : {}) });
    return this.#agent;
  }

  /** True when every TLS connection of this transport presents a client certificate (mTLS). */
  get presentsCertificate(): boolean {
    return this.#tls !== undefined;
  }

  /**
   * With a client certificate: the Node https agent that presents it, for simple-oauth2's token
   * endpoint calls (Wreck takes Node agents, not undici dispatchers). Made on first use, closed by `close()`.
   */
  httpsAgent(): HttpsAgent | undefined {
    if (!this.#tls) return undefined;
    this.#httpsAgent ??= new HttpsAgent({ keepAlive: true, ...tlsOptions(this.#tls) });
    return this.#httpsAgent;
  }

  /**
   * Send one request and wrap the answer in a WHATWG `Response`, resolved as soon as the headers
   * are in. As fetch does, `accept-encoding` is sent unless given, and a `gzip`/`deflate`/`br` body
   * is decoded (its `content-encoding` and `content-length` headers removed, as they describe the
   * encoded bytes). A small body (declared length ≤ 256 KiB, not encoded) is read at once in the
   * background within `httpTimeoutMs` (see `readSmallBody`); others stream. With the `fetch`
   * option, that function is called with `redirect: 'manual'`. `headers` as a plain object must
   * have lower-case names (see `headersObject`).
   */
  send(url: URL, method: string, headers: Headers | Record<string, string>, body: RequestInit['body'], init: ApiRequestInit): Promise<Response> {
    if (!this.telemetry.enabled) return this.#send(url, method, headers, body, init);
    return this.telemetry.httpRequest(method, url, () => this.#send(url, method, headers, body, init));
  }

  async #send(url: URL, method: string, headers: Headers | Record<string, string>, body: RequestInit['body'], init: ApiRequestInit): Promise<Response> {
    if (this.#custom) {
      const { query: _q, body: _b, ...rest } = init;
      return this.#custom(url, { ...rest, method, headers: headers instanceof Headers ? headers : new Headers(headers), body, redirect: 'manual' });
    }
    const outgoing = headers instanceof Headers ? headersObject(headers) : headers;
    if (this.#tls && url.protocol !== 'https:' && (outgoing.authorization !== undefined || body != null || url.searchParams.has('access_token'))) {
      // RFC 8705 §3: a certificate-bound token (or a code, a refresh token) never travels without the certificate.
      throw new OAuthError(OAUTH_CODES.MTLS_REQUIRED, `Refused to send credentials to ${url.origin} without TLS: this provider's tokens are bound to its TLS client certificate.`, { status: 500 });
    }
    outgoing['accept-encoding'] ??= url.protocol === 'https:' ? 'br, gzip, deflate' : 'gzip, deflate';
    const undiciBody = toUndiciBody(body, outgoing);
    const res = await undiciRequest(url, {
      method: method as Dispatcher.HttpMethod,
      headers: outgoing,
      body: undiciBody,
      signal: init.signal ?? undefined,
      dispatcher: this.#dispatcher(),
    });
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (Array.isArray(value)) for (const v of value) responseHeaders.append(name, v);
      else if (value !== undefined) responseHeaders.append(name, value);
    }
    if (NULL_BODY_STATUS.has(res.statusCode) || method === 'HEAD') {
      res.body.resume();
      return new Response(null, { status: res.statusCode, headers: responseHeaders });
    }
    const encoding = res.headers['content-encoding'];
    if (encoding !== undefined) {
      const decoders = decodersFor(encoding);
      if (decoders) {
        responseHeaders.delete('content-encoding');
        responseHeaders.delete('content-length');
        return new Response(toWebStream(decode(res.body, decoders)), { status: res.statusCode, headers: responseHeaders });
      }
    }
    const length = Number(res.headers['content-length'] ?? NaN);
    if (Number.isFinite(length) && length <= BUFFER_LIMIT) {
      // Small bodies (the common API answer): read once, skip the web-stream bridge.
      return new BufferedResponse(readSmallBody(res.body, this.#bodyDeadlineMs), { status: res.statusCode, headers: responseHeaders });
    }
    return new Response(toWebStream(res.body), { status: res.statusCode, headers: responseHeaders });
  }

  /** Close the keep-alive pool (open sockets end); a later request opens a new one. */
  async close(): Promise<void> {
    const agent = this.#agent;
    this.#agent = undefined;
    this.#httpsAgent?.destroy();
    this.#httpsAgent = undefined;
    await agent?.close();
  }
}

/** The TLS options of a client certificate (undici's `connect`, Node's https agent). */
function tlsOptions(tls: Readonly<TlsClientCertificate>): { cert: string | Buffer; key: string | Buffer; ca?: Array<string | Buffer> } {
  const ca = tls.ca === undefined ? undefined : Array.isArray(tls.ca) ? tls.ca : [tls.ca];
  return { cert: tls.cert, key: tls.key, ...(ca ? { ca } : {}) };
}

/**
 * Drop an answer's body without reading it. Cancelling a `Readable.toWeb` stream that already
 * ended throws on Node 20, and a buffered answer has nothing to release: both are fine to ignore.
 */
export async function discardBody(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // already ended or already read
  }
}
