// The HTTP plumbing of the scriptable servers (op.ts, fapi-op.ts): each request read whole, handed
// to the server's handler as method, path, query, form body and headers, and its reply written. Over
// TLS (RFC 8705 tests) the listener asks for a client certificate and hands it to the handler.
import type { X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface IncomingCall {
  method: string;
  path: string;
  query: URLSearchParams;
  form: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** Where the call came in (`http://…` or, over TLS, `https://…`). */
  origin: string;
  /** Over TLS: the client's certificate, and whether it chains to the listener's `ca`. */
  peer?: { certificate: X509Certificate | undefined; authorized: boolean };
}

/** A TLS listener's key, certificate, and the CA its clients' certificates are checked against (not enforced: the handler decides). */
export interface TlsListener {
  key: string;
  cert: string;
  ca: string;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
}

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  body,
});

/** Listen on an ephemeral port of 127.0.0.1 (https with `tls`); a handler that throws answers 500. */
export async function serve(handle: (call: IncomingCall) => Promise<Reply>, tls?: TlsListener): Promise<{ origin: string; stop: () => Promise<void> }> {
  let origin = '';
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://op');
      const socket = req.socket as TLSSocket;
      const peer = tls ? { certificate: socket.getPeerX509Certificate?.(), authorized: socket.authorized === true } : undefined;
      handle({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, form: new URLSearchParams(raw), headers: req.headers, origin, ...(peer ? { peer } : {}) }).then(
        (reply) => {
          res.writeHead(reply.status, reply.headers ?? {});
          res.end(reply.body === undefined ? undefined : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
        },
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)),
      );
    });
  };
  const server = tls ? https.createServer({ ...tls, requestCert: true, rejectUnauthorized: false }, listener) : http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  origin = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    origin,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
