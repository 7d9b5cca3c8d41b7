import { Readable } from 'node:stream';
import { Agent, request as undiciRequest, type Dispatcher } from 'undici';
import type { FetchLike } from '../config/options.js';
import { BufferedResponse } from './buffered-response.js';

/** `RequestInit` plus `query` (merged into the URL) and plain-object bodies sent as JSON. */
export interface ApiRequestInit extends Omit<RequestInit, 'body'> {
  body?: RequestInit['body'] | Record<string, unknown> | unknown[];
  query?: Record<string, string | number | boolean | undefined>;
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
const BUFFER_LIMIT = 256 * 1024;

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
 * A web stream over undici's body. Not `Readable.toWeb`: cancelling its stream while the socket
 * is still delivering makes Node throw "Controller is already closed" outside any promise (an
 * uncaught exception). Here a cancel just destroys the body, and late events are ignored.
 */
function toWebStream(body: Readable): ReadableStream<Uint8Array> {
  let settled = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      body.on('data', (chunk: Buffer) => {
        if (settled) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) body.pause();
      });
      body.once('end', () => {
        if (settled) return;
        settled = true;
        controller.close();
      });
      body.once('error', (err) => {
        if (settled) return;
        settled = true;
        controller.error(err);
      });
    },
    pull() {
      body.resume();
    },
    cancel() {
      settled = true;
      body.destroy();
    },
  });
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
  #agent: Agent | undefined;
  /**
   * The transport as a fetch-compatible function: discovery, JWKS, revocation and PAR use it.
   * The `fetch` option itself when given, else the pooled path.
   */
  readonly fetch: FetchLike;

  constructor(custom?: FetchLike) {
    this.#custom = custom;
    this.fetch = custom ?? ((input, init = {}) => this.send(new URL(input), (init.method ?? 'GET').toUpperCase(), new Headers(init.headers), init.body, init as ApiRequestInit));
  }

  #dispatcher(): Agent {
    this.#agent ??= new Agent({ keepAliveTimeout: 10_000, connections: 128 });
    return this.#agent;
  }

  /**
   * Send one request and wrap the answer in a WHATWG `Response`. With the `fetch` option, that
   * function is called with `redirect: 'manual'`. `headers` as a plain object must have lower-case
   * names (see `headersObject`).
   */
  async send(url: URL, method: string, headers: Headers | Record<string, string>, body: RequestInit['body'], init: ApiRequestInit): Promise<Response> {
    if (this.#custom) {
      const { query: _q, body: _b, ...rest } = init;
      return this.#custom(url, { ...rest, method, headers: headers instanceof Headers ? headers : new Headers(headers), body, redirect: 'manual' });
    }
    const outgoing = headers instanceof Headers ? headersObject(headers) : headers;
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
    const length = Number(res.headers['content-length'] ?? NaN);
    if (Number.isFinite(length) && length <= BUFFER_LIMIT) {
      // Small bodies (the common API answer): read once, skip the web-stream bridge.
      return new BufferedResponse(new Uint8Array(await res.body.arrayBuffer()), { status: res.statusCode, headers: responseHeaders });
    }
    return new Response(toWebStream(res.body), { status: res.statusCode, headers: responseHeaders });
  }

  /** Close the keep-alive pool (open sockets end); a later request opens a new one. */
  async close(): Promise<void> {
    const agent = this.#agent;
    this.#agent = undefined;
    await agent?.close();
  }
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
