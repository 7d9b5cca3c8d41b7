// A pass-through in front of the test provider's token endpoint for the Redis topology tests: it
// records every exchange (what was sent, what the provider answered) so a test can follow each
// user's chain of rotated refresh tokens, and it can hold or slow the provider's answers:
// - `hold()`: every answer waits, after the provider answered (the refresh token is rotated), until
//   released: a test lands a fault (a Redis master killed) between the token response and the write.
// - `slowNext({ headersAfterMs, bodyOverMs })`: the next refresh answer sends its headers late and
//   its body slowly (both within the client's timeout, together longer than the lock lease).
import http from 'node:http';

export interface TokenExchange {
  grantType: string;
  /** The refresh token sent (refresh_token grant). */
  sent?: string;
  /** The authorization code sent (authorization_code grant): tells whose login it was. */
  code?: string;
  status: number;
  /** The refresh token the provider issued (200 answers). */
  issued?: string;
  /** The provider's `error` (e.g. `invalid_grant`). */
  error?: string;
  at: number;
}

export interface TokenGate {
  url: string;
  exchanges: TokenExchange[];
  /** Hold every answer (after the provider answered) until `release()`; `arrived(n)` resolves once n are held. */
  hold(): { arrived(count: number, timeoutMs?: number): Promise<void>; release(): void };
  /** The next `count` refresh_token answers: headers after `headersAfterMs`, then the body's last byte `bodyOverMs` later. */
  slowNext(slow: { headersAfterMs: number; bodyOverMs: number }, count?: number): void;
  /** The chain of refresh tokens starting at `first`: each token the provider issued for the previous one. */
  chainOf(first: string): TokenExchange[];
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startTokenGate(target: string): Promise<TokenGate> {
  const exchanges: TokenExchange[] = [];
  let gate: Promise<void> | undefined;
  let held = 0;
  const heldWaiters = new Set<() => void>();
  let slow: { headersAfterMs: number; bodyOverMs: number } | undefined;
  let slowCount = 0;
  const sockets = new Set<import('node:net').Socket>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const started = Date.now();
        const body = Buffer.concat(chunks);
        const form = new URLSearchParams(body.toString('utf8'));
        const grantType = form.get('grant_type') ?? '';
        const mySlow = grantType === 'refresh_token' && slowCount > 0 ? slow : undefined;
        if (mySlow) slowCount -= 1;
        const headers: Record<string, string> = { 'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded' };
        if (req.headers.authorization) headers.authorization = req.headers.authorization;
        if (req.headers.dpop) headers.dpop = req.headers.dpop as string;
        const upstream = await fetch(target, { method: 'POST', headers, body });
        const answer = Buffer.from(await upstream.arrayBuffer());
        const parsed = JSON.parse(answer.toString('utf8') || '{}') as { refresh_token?: string; error?: string };
        exchanges.push({
          grantType,
          ...(form.get('refresh_token') ? { sent: form.get('refresh_token')! } : {}),
          ...(form.get('code') ? { code: form.get('code')! } : {}),
          status: upstream.status,
          ...(parsed.refresh_token ? { issued: parsed.refresh_token } : {}),
          ...(parsed.error ? { error: parsed.error } : {}),
          at: Date.now(),
        });
        if (gate) {
          held += 1;
          for (const wake of heldWaiters) wake();
          await gate;
        }
        const out = { 'content-type': upstream.headers.get('content-type') ?? 'application/json', 'cache-control': 'no-store' };
        if (!mySlow) return void res.writeHead(upstream.status, { ...out, 'content-length': String(answer.length) }).end(answer);
        await sleep(Math.max(0, mySlow.headersAfterMs - (Date.now() - started)));
        res.writeHead(upstream.status, { ...out, 'content-length': String(answer.length) });
        res.write(answer.subarray(0, 1));
        await sleep(mySlow.bodyOverMs);
        res.end(answer.subarray(1));
      })().catch(() => res.destroy());
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;

  return {
    url: `http://127.0.0.1:${port}/token`,
    exchanges,
    hold() {
      let release: () => void = () => {};
      gate = new Promise<void>((resolve) => (release = resolve));
      held = 0;
      return {
        async arrived(count, timeoutMs = 20_000) {
          const end = Date.now() + timeoutMs;
          while (held < count) {
            if (Date.now() > end) throw new Error(`only ${held} of ${count} token answers reached the held gate within ${timeoutMs} ms`);
            await new Promise<void>((resolve) => {
              const wake = () => {
                heldWaiters.delete(wake);
                resolve();
              };
              heldWaiters.add(wake);
              setTimeout(wake, 100);
            });
          }
        },
        release() {
          gate = undefined;
          release();
        },
      };
    },
    slowNext(s, count = 1) {
      slow = s;
      slowCount = count;
    },
    chainOf(first) {
      const chain: TokenExchange[] = [];
      const seen = new Set([first]);
      for (const x of exchanges) {
        if (x.grantType !== 'refresh_token' || !x.sent || !seen.has(x.sent)) continue;
        chain.push(x);
        if (x.issued) seen.add(x.issued);
      }
      return chain;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
