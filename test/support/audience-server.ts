// A protected API that accepts only tokens for its own audience (RFC 8707): the test provider's
// resource servers issue JWT access tokens (`accessTokenFormat: 'jwt'`), verified here with the
// provider's JWKS, `iss` and `aud` = this API's resource. Every request's Authorization header is
// recorded (`seen`, in order) so a test can assert that no other API's token ever arrived.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';

export interface AudienceServer {
  /** Base URL (`http://127.0.0.1:<port>`). */
  url: string;
  /** The `aud` this server accepts. */
  resource: string;
  /** Every Authorization header received, in order (`''` when none). */
  seen: string[];
  /** Answer the next `count` requests with 401 `invalid_token` whatever the token. */
  rejectNext(count?: number): void;
  stop(): Promise<void>;
}

/** Starts an API on a free loopback port; `resource` defaults to its own base URL + `/`. */
export async function startAudienceServer(opts: { issuer: string; resource?: (url: string) => string }): Promise<AudienceServer> {
  const jwks = createRemoteJWKSet(new URL(`${opts.issuer}/jwks`));
  const seen: string[] = [];
  let rejections = 0;
  let resource = '';
  const challenge = (res: http.ServerResponse, error: string) =>
    res.writeHead(401, { 'www-authenticate': `Bearer error="${error}"`, 'content-type': 'application/json' }).end(JSON.stringify({ error }));

  const server = http.createServer((req, res) => {
    req.resume();
    const authorization = req.headers.authorization ?? '';
    seen.push(authorization);
    // Bearer, or DPoP (RFC 9449 §7: the token's `cnf.jkt` binds it; the proof itself is checked in dpop-resource-server.ts).
    const m = /^(?:Bearer|DPoP) (\S+)$/i.exec(authorization);
    if (!m?.[1]) return challenge(res, 'invalid_request');
    if (rejections > 0) {
      rejections -= 1;
      return challenge(res, 'invalid_token');
    }
    jwtVerify(m[1], jwks, { issuer: opts.issuer, audience: resource })
      .then(({ payload }) => {
        const bound = (payload.cnf as { jkt?: string } | undefined)?.jkt !== undefined;
        const scheme = authorization.split(' ')[0]?.toLowerCase();
        if (bound !== (scheme === 'dpop') || (bound && !req.headers.dpop)) return challenge(res, 'invalid_token');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url, method: req.method, aud: payload.aud, sub: payload.sub, scope: payload.scope ?? null }));
      })
      .catch(() => challenge(res, 'invalid_token'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  resource = opts.resource ? opts.resource(url) : `${url}/`;
  return {
    url,
    resource,
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
