import http from 'node:http';

const HOP_BY_HOP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

interface Hold {
  /** Resolves when a request's real answer reached the closed gate. */
  arrived: Promise<void>;
  /** Let held (and later) requests through. */
  release(): void;
}

/**
 * A pass-through in front of a real endpoint (the AS's token or revocation endpoint) that records
 * what went through. Open by default; `hold()` makes the next answer wait, after the real endpoint
 * answered, until released: lets a test land a logout while a token call is in flight.
 */
export async function gatedEndpoint(target: string) {
  let gate: Promise<void> = Promise.resolve();
  let onArrival: (() => void) | undefined;
  const answers: Array<Record<string, unknown>> = [];
  const forms: URLSearchParams[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      forms.push(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !HOP_BY_HOP.has(k))) as Record<string, string>;
      const upstream = await fetch(target, { method: req.method, headers, body: Buffer.concat(chunks) });
      const body = Buffer.from(await upstream.arrayBuffer());
      answers.push(JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>);
      // The real endpoint has answered (tokens issued); the caller waits here while held.
      onArrival?.();
      await gate;
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}${new URL(target).pathname}`,
    /** Every JSON body the real endpoint answered, in order (to check what became of those tokens). */
    answers,
    /** Every form body sent through, in order. */
    forms,
    hold(): Hold {
      let release: () => void = () => {};
      gate = new Promise<void>((resolve) => (release = resolve));
      const arrived = new Promise<void>((resolve) => (onArrival = resolve));
      return { arrived, release };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
