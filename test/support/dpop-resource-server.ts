// A DPoP-protected API for tests (RFC 9449 §7): GET/POST /api/me needs `Authorization: DPoP <token>`
// and a proof signed by the key the token is bound to. It checks the proof (typ, ES256, embedded
// jwk, htm, htu, iat, jti not replayed, ath, optionally a nonce it issued) and, by RFC 7662
// introspection at the AS (as `svc`), that the token is active and its `cnf.jkt` is the proof
// key's thumbprint. Every request is recorded (no token values) for exact assertions.
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';

export interface DpopSeen {
  scheme: string | undefined;
  proof: boolean;
  nonce: string | undefined;
  outcome: string;
}

export interface DpopResourceServer {
  url: string;
  seen: DpopSeen[];
  /** Demand a server nonce (`use_dpop_nonce`) from now on; each call issues a new one. */
  requireNonce(): string;
  stop(): Promise<void>;
}

export async function startDpopResourceServer(opts: { issuer: string }): Promise<DpopResourceServer> {
  const seen: DpopSeen[] = [];
  const jtis = new Set<string>();
  let nonce: string | undefined;
  let url = '';

  function challenge(res: http.ServerResponse, error: string, extra: Record<string, string> = {}): void {
    res.writeHead(401, { 'www-authenticate': `DPoP error="${error}", algs="ES256"`, 'content-type': 'application/json', ...extra }).end(JSON.stringify({ error }));
  }

  async function check(req: http.IncomingMessage, token: string, proof: string): Promise<string | { sub: string; jkt: string; tokenType: string }> {
    let verified;
    try {
      verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] });
    } catch {
      return 'invalid_dpop_proof';
    }
    const { payload, protectedHeader } = verified;
    const htu = `${url}${(req.url ?? '/').split('?')[0]}`;
    if (payload.htm !== req.method || payload.htu !== htu) return 'invalid_dpop_proof';
    if (typeof payload.iat !== 'number' || Math.abs(Date.now() / 1000 - payload.iat) > 60) return 'invalid_dpop_proof';
    if (typeof payload.jti !== 'string' || jtis.has(payload.jti)) return 'invalid_dpop_proof';
    jtis.add(payload.jti);
    if (payload.ath !== createHash('sha256').update(token).digest('base64url')) return 'invalid_dpop_proof';
    if (nonce !== undefined && payload.nonce !== nonce) return 'use_dpop_nonce';
    const r = await fetch(`${opts.issuer}/token/introspection`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('svc:svc-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });
    const info = (await r.json()) as { active?: boolean; sub?: string; token_type?: string; cnf?: { jkt?: string } };
    const jkt = await calculateJwkThumbprint(protectedHeader.jwk!);
    if (!info.active || info.cnf?.jkt !== jkt) return 'invalid_token';
    return { sub: info.sub ?? '', jkt, tokenType: info.token_type ?? '' };
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      const [scheme, token] = (req.headers.authorization ?? '').split(' ');
      const proof = req.headers.dpop;
      const record = (outcome: string) => seen.push({ scheme, proof: typeof proof === 'string', nonce: proofNonce(proof), outcome });
      if (scheme !== 'DPoP' || !token || typeof proof !== 'string') {
        record('invalid_token');
        return challenge(res, 'invalid_token');
      }
      const result = await check(req, token, proof);
      if (typeof result === 'string') {
        record(result);
        return challenge(res, result, result === 'use_dpop_nonce' ? { 'dpop-nonce': nonce! } : {});
      }
      record('ok');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    requireNonce() {
      nonce = randomUUID();
      return nonce;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function proofNonce(proof: string | string[] | undefined): string | undefined {
  if (typeof proof !== 'string') return undefined;
  try {
    const payload = JSON.parse(Buffer.from(proof.split('.')[1] ?? '', 'base64url').toString()) as { nonce?: string };
    return payload.nonce;
  } catch {
    return undefined;
  }
}
