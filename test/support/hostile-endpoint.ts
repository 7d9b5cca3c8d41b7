import http from 'node:http';

/** What one answer of a hostile endpoint came to: bytes written, and whether the client hung up first. */
export interface HostileAnswer {
  path: string;
  headers: http.IncomingHttpHeaders;
  sent: number;
  /** The whole body was written (the client read it all, or the kernel buffered it). */
  finished: boolean;
}

export type HostileHandler = (req: http.IncomingMessage, res: http.ServerResponse, answer: HostileAnswer) => void | Promise<void>;

/**
 * A local HTTP server that answers like a hostile provider or API: per path, a handler that may
 * flood, lie about lengths or stall. Records every answer; `close()` also drops stalled sockets.
 */
export async function startHostileEndpoint(routes: Record<string, HostileHandler>) {
  const answers: HostileAnswer[] = [];
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const answer: HostileAnswer = { path, headers: req.headers, sent: 0, finished: false };
    answers.push(answer);
    res.on('finish', () => (answer.finished = true));
    req.resume();
    req.on('end', () => {
      const handler = routes[path];
      if (!handler) {
        res.writeHead(404).end();
        return;
      }
      void handler(req, res, answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    origin,
    url: (path: string) => `${origin}${path}`,
    answers,
    /** The last answer to `path`. */
    last: (path: string) => answers.filter((a) => a.path === path).at(-1),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Write `total` bytes of `fill` in 64 KiB chunks, honouring back-pressure, and stop as soon as the
 * client hangs up (what a hostile provider's 96 MiB answer looks like from the reading side).
 */
export async function flood(res: http.ServerResponse, answer: HostileAnswer, total: number, fill = 'x'): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, fill);
  let closed = false;
  let wake: () => void = () => {};
  res.on('close', () => ((closed = true), wake()));
  res.on('drain', () => wake());
  while (answer.sent < total && !closed) {
    const ok = res.write(chunk);
    answer.sent += chunk.length;
    if (!ok) await new Promise<void>((resolve) => (wake = resolve));
  }
  if (!closed) res.end();
}

/** A flooding handler: 200 (or `status`), optional declared length, `total` bytes of `fill`. */
export function flooding(total: number, options: { status?: number; contentType?: string; contentLength?: number; fill?: string } = {}): HostileHandler {
  return (_req, res, answer) => {
    const headers: Record<string, string | number> = { 'content-type': options.contentType ?? 'application/json' };
    if (options.contentLength !== undefined) headers['content-length'] = options.contentLength;
    res.writeHead(options.status ?? 200, headers);
    return flood(res, answer, total, options.fill);
  };
}
