// Response bodies as fetch hands them over: a web stream over undici's body, decoded per its
// `Content-Encoding` (gzip, deflate in either wrapping, br).
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';

/**
 * A web stream over undici's body. Not `Readable.toWeb`: cancelling its stream while the socket
 * is still delivering makes Node throw "Controller is already closed" outside any promise (an
 * uncaught exception). Here a cancel just destroys the body, and late events are ignored.
 */
export function toWebStream(body: Readable): ReadableStream<Uint8Array> {
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

/**
 * `deflate` as fetch decodes it: zlib-wrapped (RFC 1950) as the RFC says, or raw deflate as some
 * servers send it, told apart by the first byte.
 */
class InflateEither extends Transform {
  #inner: zlib.Inflate | zlib.InflateRaw | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.#inner) {
      const options = { flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH };
      const inner = (this.#inner = (chunk[0]! & 0x0f) === 0x08 ? zlib.createInflate(options) : zlib.createInflateRaw(options));
      inner.on('data', (data: Buffer) => this.push(data));
      inner.on('error', (err) => this.destroy(err));
    }
    this.#inner.write(chunk, callback);
  }

  override _flush(callback: TransformCallback): void {
    if (!this.#inner) return callback();
    this.#inner.once('end', () => callback());
    this.#inner.end();
  }

  override _destroy(err: Error | null, callback: (error: Error | null) => void): void {
    this.#inner?.destroy();
    callback(err);
  }
}

/**
 * The decoders for a `Content-Encoding` (last coding applied is undone first), as fetch decodes
 * them: `gzip` (`x-gzip`), `deflate`, `br`, `identity`. Undefined when a coding is unknown or
 * there is none: the body is then handed over as received, as fetch does.
 */
export function decodersFor(contentEncoding: string | string[] | undefined): Transform[] | undefined {
  if (contentEncoding === undefined) return undefined;
  const codings = (Array.isArray(contentEncoding) ? contentEncoding.join(',') : contentEncoding)
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length === 0 || codings.length > 4) return undefined;
  const options = { flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH };
  const decoders: Transform[] = [];
  for (const coding of codings.reverse()) {
    if (coding === 'gzip' || coding === 'x-gzip') decoders.push(zlib.createGunzip(options));
    else if (coding === 'deflate') decoders.push(new InflateEither());
    else if (coding === 'br') decoders.push(zlib.createBrotliDecompress({ flush: zlib.constants.BROTLI_OPERATION_FLUSH, finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }));
    else return undefined;
  }
  return decoders;
}

/** A body through its decoders; destroying the result (a cancelled web stream) destroys the socket's body too. */
export function decode(body: Readable, decoders: Transform[]): Readable {
  return pipeline([body, ...decoders], () => undefined) as unknown as Readable;
}
