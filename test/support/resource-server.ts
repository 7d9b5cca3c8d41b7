// Tiny protected API for tests (CommonJS-friendly port of the harness's resource-server.mjs).
//   GET /api/me -> 200 { sub, client_id, scope, via } or 401 with WWW-Authenticate
// Opaque access tokens are checked by RFC 7662 introspection at the AS (as the `svc` client).
// Every request's Authorization header is recorded (`seen`) so tests can assert what was sent.
import http from 'node:http';
import express from 'express';

export interface ResourceServer {
  url: string;
  /** Bearer tokens received, in order (values: tests compare them, never print them). */
  seen: string[];
  /** Answer the next N requests with 401 invalid_token regardless of the token. */
  rejectNext(count?: number): void;
  stop(): Promise<void>;
}

export async function startResourceServer(opts: { issuer: string; introspectionClient?: { id: string; secret: string } }): Promise<ResourceServer> {
  const { issuer, introspectionClient = { id: 'svc', secret: 'svc-secret' } } = opts;
  const basic = Buffer.from(`${encodeURIComponent(introspectionClient.id)}:${encodeURIComponent(introspectionClient.secret)}`).toString('base64');
  const seen: string[] = [];
  let rejections = 0;
  const app = express();

  app.all('/api/echo', express.json(), (req, res) => {
    res.json({ method: req.method, query: req.query, body: req.body ?? null, authorization: req.get('authorization') ? 'present' : 'absent', userAgent: req.get('user-agent') ?? null });
  });

  app.all('/api/me', async (req, res) => {
    const m = /^Bearer (.+)$/i.exec(req.get('authorization') ?? '');
    if (!m?.[1]) {
      res.set('WWW-Authenticate', 'Bearer realm="test-api"').status(401).json({ error: 'invalid_request' });
      return;
    }
    const token = m[1];
    seen.push(token);
    if (rejections > 0) {
      rejections -= 1;
      res.set('WWW-Authenticate', 'Bearer error="invalid_token"').status(401).json({ error: 'invalid_token' });
      return;
    }
    const r = await fetch(`${issuer}/token/introspection`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
    });
    const info = (await r.json()) as { active?: boolean; sub?: string; client_id?: string; scope?: string };
    if (!info.active) {
      res.set('WWW-Authenticate', 'Bearer error="invalid_token"').status(401).json({ error: 'invalid_token' });
      return;
    }
    res.json({ sub: info.sub, client_id: info.client_id, scope: info.scope, via: 'introspection' });
  });

  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    rejectNext(count = 1) {
      rejections += count;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
