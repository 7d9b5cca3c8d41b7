import type { IncomingMessage } from 'node:http';

/** Largest form body read (a logout token is a few KiB). */
export const MAX_FORM_BYTES = 64 * 1024;

/** Why a form body could not be read: the route answers 400 (or 413 when too large). */
export class FormBodyError extends Error {
  override name = 'FormBodyError';
  constructor(
    message: string,
    readonly status: 400 | 413 | 415,
  ) {
    super(message);
  }
}

type RequestWithBody = IncomingMessage & { body?: unknown; _body?: unknown };

/** An earlier body parser already read the stream (body-parser marks it `_body`): nothing more will arrive. */
function alreadyRead(req: RequestWithBody): boolean {
  return req.readableEnded || req._body === true || req.destroyed;
}

/** The string fields of a body an earlier parser produced (`express.urlencoded`), when it is such an object. */
function parsedFields(body: unknown): URLSearchParams | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Buffer.isBuffer(body) || ArrayBuffer.isView(body)) return undefined;
  const fields = Object.entries(body).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
  return new URLSearchParams(fields);
}

/**
 * The `application/x-www-form-urlencoded` body of a request, read from the Node stream with a size
 * cap (no body-parser dependency). A body an earlier body parser already parsed into an object
 * (`express.urlencoded`) is taken from `req.body`; one it read into anything else (`express.text`,
 * `express.raw`) cannot be read again: 400. Reading stops after `timeoutMs` (400): never a hang.
 */
export async function readFormBody(req: IncomingMessage, options: { maxBytes?: number; timeoutMs?: number } = {}): Promise<URLSearchParams> {
  const { maxBytes = MAX_FORM_BYTES, timeoutMs } = options;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new FormBodyError('expected an application/x-www-form-urlencoded body', 415);
  const withBody = req as RequestWithBody;
  const parsed = parsedFields(withBody.body);
  if (parsed) return parsed;
  if (alreadyRead(withBody)) throw new FormBodyError('the body was already read by another body parser, into something other than form fields', 400);
  const declared = Number(req.headers['content-length']);
  if (declared > maxBytes) throw new FormBodyError('body too large', 413);
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => fail(new FormBodyError('body not received in time', 400)), timeoutMs);
    const done = () => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
    };
    const fail = (err: unknown) => {
      done();
      // Stop keeping it, let the rest drain (the response closes the connection).
      req.resume();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      fail(new FormBodyError('body too large', 413));
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks));
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', fail);
  });
  return new URLSearchParams(body.toString('utf8'));
}
