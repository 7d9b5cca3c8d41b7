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

/**
 * The `application/x-www-form-urlencoded` body of a request, read from the Node stream with a size
 * cap (no body-parser dependency). A body an earlier body parser already consumed (`req.body`
 * object) is taken from there.
 */
export async function readFormBody(req: IncomingMessage, maxBytes = MAX_FORM_BYTES): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new FormBodyError('expected an application/x-www-form-urlencoded body', 415);
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  if (req.readableEnded && typeof parsed === 'object' && parsed !== null) {
    const fields = Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
    return new URLSearchParams(fields);
  }
  const declared = Number(req.headers['content-length']);
  if (declared > maxBytes) throw new FormBodyError('body too large', 413);
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      // Too large: stop keeping it, let the rest drain (the response closes the connection).
      req.off('data', onData);
      req.resume();
      reject(new FormBodyError('body too large', 413));
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
  return new URLSearchParams(body.toString('utf8'));
}
