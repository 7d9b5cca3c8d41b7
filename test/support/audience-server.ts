// A protected API that accepts only tokens for its own audience (RFC 8707): the test provider's
// resource servers issue JWT access tokens (`accessTokenFormat: 'jwt'`), verified here with the
// provider's JWKS, `iss` and `aud` = this API's resource. Every request's Authorization header is
// recorded (`seen`, in order) so a test can assert that no other API's token ever arrived. A
// DPoP-bound token is accepted only with a proof of its key; the answer then names that key (`jkt`).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, createRemoteJWKSet, EmbeddedJWK, jwtVerify } from 'jose';

/** The thumbprint of a DPoP proof's key (RFC 9449 §4.3: typ, ES256, htm, htu, ath, recent), or undefined. */
async function proofKey(proof: string | string[] | undefined, method: string, htu: string, token: string): Promise<string | undefined> {
  if (typeof proof !== 'string') return undefined;
  try {
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'], maxTokenAge: 60 });
    if (payload.htm !== method || payload.htu !== htu || payload.ath !== createHash('sha256').update(token).digest('base64url')) return undefined;
    return await calculateJwkThumbprint(protectedHeader.jwk!);
  } catch {
    return undefined;
  }
}

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
  let base = '';
  const challenge = (res: http.ServerResponse, error: string) =>
    res.writeHead(401, { 'www-authenticate': `Bearer error="${error}"`, 'content-type': 'application/json' }).end(JSON.stringify({ error }));

  const server = http.createServer((req, res) => {
    req.resume();
    const authorization = req.headers.authorization ?? '';
    seen.push(authorization);
    // Bearer, or DPoP (RFC 9449 §7): a token with `cnf.jkt` only as DPoP, with a proof of that key for this request.
    const m = /^(?:Bearer|DPoP) (\S+)$/i.exec(authorization);
    if (!m?.[1]) return challenge(res, 'invalid_request');
    if (rejections > 0) {
      rejections -= 1;
      return challenge(res, 'invalid_token');
    }
    jwtVerify(m[1], jwks, { issuer: opts.issuer, audience: resource })
      .then(async ({ payload }) => {
        const jkt = (payload.cnf as { jkt?: string } | undefined)?.jkt;
        const scheme = authorization.split(' ')[0]?.toLowerCase();
        if ((jkt !== undefined) !== (scheme === 'dpop')) return challenge(res, 'invalid_token');
        if (jkt !== undefined) {
          const url = new URL(req.url ?? '/', base);
          if ((await proofKey(req.headers.dpop, req.method ?? '', `${base}${url.pathname}`, m[1]!)) !== jkt) return challenge(res, 'invalid_token');
        }
        const body = { path: req.url, method: req.method, aud: payload.aud, sub: payload.sub, scope: payload.scope ?? null };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jkt === undefined ? body : { ...body, jkt }));
      })
      .catch(() => challenge(res, 'invalid_token'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  base = url;
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
