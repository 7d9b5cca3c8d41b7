import http from 'node:http';

/**
 * A hostile authorization server for mix-up tests (RFC 9207 §2): its authorization endpoint
 * forwards the browser to an honest AS's, keeping state, PKCE challenge, nonce and redirect URI
 * but using the honest client's id; its token endpoint records every request (it would receive
 * the honest code and the PKCE verifier) and answers `invalid_grant`.
 */
export async function startForwardingAs(honestAuthorizationUrl: string, honestClientId: string) {
  const tokenRequests: URLSearchParams[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/authorize') {
      const target = new URL(honestAuthorizationUrl);
      for (const [k, v] of url.searchParams) target.searchParams.set(k, v);
      target.searchParams.set('client_id', honestClientId);
      res.writeHead(302, { location: target.toString() }).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && url.pathname === '/token') tokenRequests.push(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    authorizationUrl: `${origin}/authorize`,
    tokenUrl: `${origin}/token`,
    /** The form bodies the token endpoint received. */
    tokenRequests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
