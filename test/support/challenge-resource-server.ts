// A resource server that answers with the challenges of RFC 6750 §3.1 (insufficient_scope),
// RFC 9470 §3 (insufficient_user_authentication with acr_values / max_age) and RFC 9728 §5.1
// (resource_metadata), for tests of req.oauth's challenge handling against the real test provider.
// Tokens are checked by RFC 7662 introspection at the AS (as `svc`), or, with `audience`, as JWT
// access tokens for that audience (RFC 8707 resource servers of the test provider, RFC 9068); with
// the provider's `accessTokenAuthContext`, both report the login's `acr` and `auth_time` (RFC 9470 §6).
//   GET /scope/<scope>   needs that scope          → 403 Bearer error="insufficient_scope", scope="<scope>"
//   GET /acr/<acr>       needs that acr            → 401 Bearer error="insufficient_user_authentication", acr_values="<acr>"
//   GET /fresh           needs auth_time ≥ freshAfter (set by the test) → 401 … max_age="0"
//   GET /.well-known/oauth-protected-resource  the metadata document set by the test (404 when none)
// With metadata set, every challenge names it. Every API request is recorded (token values are
// compared by tests, never printed).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';

export interface ChallengeSeen {
  path: string;
  token: string | undefined;
  outcome: 'ok' | 'invalid_token' | 'insufficient_scope' | 'insufficient_user_authentication';
}

export interface ChallengeResourceServer {
  url: string;
  seen: ChallengeSeen[];
  /** How many times the metadata document was read. */
  metadataReads(): number;
  /** The RFC 9728 document to serve (and name in challenges); undefined serves none. */
  setMetadata(doc: Record<string, unknown> | undefined): void;
  /** `/fresh` accepts only logins whose `auth_time` is at or after this (epoch seconds). */
  setFreshAfter(seconds: number): void;
  stop(): Promise<void>;
}

interface Introspection {
  active?: boolean;
  sub?: string;
  scope?: string;
  acr?: string;
  auth_time?: number;
}

export async function startChallengeResourceServer(opts: { issuer: string; audience?: string }): Promise<ChallengeResourceServer> {
  const jwks = opts.audience === undefined ? undefined : createRemoteJWKSet(new URL(`${opts.issuer}/jwks`));
  const seen: ChallengeSeen[] = [];
  let metadata: Record<string, unknown> | undefined;
  let metadataReads = 0;
  let freshAfter = 0;
  let url = '';
  const basic = Buffer.from('svc:svc-secret').toString('base64');

  async function introspect(token: string): Promise<Introspection> {
    if (jwks) {
      try {
        const { payload } = await jwtVerify(token, jwks, { issuer: opts.issuer, audience: opts.audience });
        return { active: true, ...(payload as Introspection) };
      } catch {
        return { active: false };
      }
    }
    const r = await fetch(`${opts.issuer}/token/introspection`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
    });
    return (await r.json()) as Introspection;
  }

  function answer(res: http.ServerResponse, status: number, challenge: string | undefined, body: unknown): void {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (challenge !== undefined) headers['www-authenticate'] = metadata ? `${challenge}, resource_metadata="${url}/.well-known/oauth-protected-resource"` : challenge;
    res.writeHead(status, headers).end(JSON.stringify(body));
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/.well-known/oauth-protected-resource') {
      metadataReads += 1;
      if (!metadata) return void res.writeHead(404).end();
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(metadata));
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const record = (outcome: ChallengeSeen['outcome']) => seen.push({ path, token, outcome });
    const info = token ? await introspect(token) : {};
    if (!info.active) {
      record('invalid_token');
      return answer(res, 401, 'Bearer error="invalid_token"', { error: 'invalid_token' });
    }
    const granted = (info.scope ?? '').split(' ');
    const scope = /^\/scope\/([^/]+)$/.exec(path)?.[1];
    if (scope !== undefined && !granted.includes(decodeURIComponent(scope))) {
      record('insufficient_scope');
      return answer(res, 403, `Bearer error="insufficient_scope", scope="${decodeURIComponent(scope)}"`, { error: 'insufficient_scope' });
    }
    const acr = /^\/acr\/([^/]+)$/.exec(path)?.[1];
    if (acr !== undefined && info.acr !== decodeURIComponent(acr)) {
      record('insufficient_user_authentication');
      const challenge = `Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="${decodeURIComponent(acr)}"`;
      return answer(res, 401, challenge, { error: 'insufficient_user_authentication' });
    }
    if (path === '/fresh' && !(typeof info.auth_time === 'number' && info.auth_time >= freshAfter)) {
      record('insufficient_user_authentication');
      return answer(res, 401, 'Bearer error="insufficient_user_authentication", error_description="More recent authentication is required", max_age="0"', {
        error: 'insufficient_user_authentication',
      });
    }
    record('ok');
    answer(res, 200, undefined, { sub: info.sub, scope: info.scope, acr: info.acr ?? null });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => res.writeHead(500).end(String((err as Error).message)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    metadataReads: () => metadataReads,
    setMetadata(doc) {
      metadata = doc;
    },
    setFreshAfter(seconds) {
      freshAfter = seconds;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
