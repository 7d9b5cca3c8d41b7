import http from 'node:http';
import type { TestAuthorizationServer } from './authorization-server';

/**
 * An OIDC discovery endpoint that can be taken down (503) and brought back: the document names
 * this server as issuer and the real test AS's endpoints. Counts the requests it receives.
 */
export async function startFlakyMetadata(as: TestAuthorizationServer) {
  let down = true;
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests += 1;
    if (down || req.url !== '/.well-known/openid-configuration') {
      res.writeHead(503).end();
      return;
    }
    const document = { issuer: origin, authorization_endpoint: as.endpoints.authorization, token_endpoint: as.endpoints.token, jwks_uri: as.endpoints.jwks };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    issuer: origin,
    requests: () => requests,
    setDown: (value: boolean) => void (down = value),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
