// Test hooks around oidc-provider: a log of client-authenticated calls (token, revocation,
// introspection), strict client authentication (oidc-provider accepts basic and post alike) and
// fault injection, a strict revocation endpoint (a DPoP-bound token is revoked only with a proof of
// its key), plus the /__harness/* routes that expose them to other processes.
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';

/**
 * RFC 9449 §5 lets an AS require a DPoP proof wherever a bound token is presented; this harness
 * does so at revocation (oidc-provider does not): a proof of the token's key, for this POST and
 * this URL. Returns the error description, or undefined when the revocation may proceed.
 */
async function checkRevocationProof(provider, ctx, raw, revocationUrl) {
  const token = new URLSearchParams(raw).get('token');
  if (!token) return undefined;
  const found = (await provider.AccessToken.find(token).catch(() => undefined)) ?? (await provider.RefreshToken.find(token).catch(() => undefined));
  if (!found?.jkt) return undefined;
  const proof = ctx.get('dpop');
  if (!proof) return 'a DPoP-bound token is revoked only with a DPoP proof';
  try {
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', maxTokenAge: 60 });
    if (payload.htm !== 'POST' || payload.htu !== revocationUrl) return 'the DPoP proof is for another request';
    if ((await calculateJwkThumbprint(protectedHeader.jwk)) !== found.jkt) return 'the DPoP proof is of another key than the token is bound to';
  } catch {
    return 'the DPoP proof does not verify';
  }
  return undefined;
}

async function readRaw(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * @param {{ provider: any, server: import('node:http').Server, issuer: string, clients: object[], strictClientAuth: boolean }} options
 * @returns {{ requests: object[], failNext: (fault: object) => void }}
 */
export function installHarness({ provider, server, issuer, clients, strictClientAuth }) {
  // --- client authentication log + strict auth method + fault injection -------------------------
  const requests = [];
  const faults = [];
  const CLIENT_AUTH_PATHS = new Set(['/token', '/token/revocation', '/token/introspection', '/request']);
  const registered = new Map(clients.map((c) => [c.client_id, c.token_endpoint_auth_method ?? 'client_secret_basic']));
  const SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post']);
  const JWT_METHODS = new Set(['private_key_jwt', 'client_secret_jwt']);
  const MTLS_METHODS = new Set(['tls_client_auth', 'self_signed_tls_client_auth']);

  provider.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || !CLIENT_AUTH_PATHS.has(ctx.path)) return next();
    const basic = /^basic\s+(\S+)/i.exec(ctx.get('authorization') ?? '');
    let basicClientId;
    if (basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      try {
        basicClientId = decodeURIComponent(decoded.slice(0, decoded.indexOf(':')).replace(/\+/g, ' '));
      } catch {
        /* let oidc-provider reject it */
      }
    }
    const entry = { at: new Date().toISOString(), endpoint: ctx.path, clientId: basicClientId, authMethod: basic ? 'client_secret_basic' : 'client_secret_post_or_none' };
    requests.push(entry);
    const reject = (method, used) => {
      ctx.status = 401;
      ctx.body = { error: 'invalid_client', error_description: `client authentication failed (registered for ${method}, used ${used}) [harness strictClientAuth]` };
      entry.status = 401;
      entry.error = 'invalid_client';
    };
    // Pre-check (no side effects): Basic header used by a client registered for client_secret_post.
    if (strictClientAuth && basicClientId && registered.get(basicClientId) === 'client_secret_post') {
      reject('client_secret_post', 'client_secret_basic');
      return undefined;
    }
    if (ctx.path === '/token/revocation') {
      // Read here to check the proof; oidc-provider then takes the parsed form from req.body.
      const raw = await readRaw(ctx.req);
      ctx.req.body = Object.fromEntries(new URLSearchParams(raw));
      const problem = await checkRevocationProof(provider, ctx, raw, `${issuer}/token/revocation`);
      entry.dpop = ctx.get('dpop') !== '';
      if (problem) {
        ctx.status = 400;
        ctx.body = { error: 'invalid_dpop_proof', error_description: `${problem} [harness]` };
        entry.status = 400;
        entry.error = 'invalid_dpop_proof';
        return undefined;
      }
    }
    await next();
    const client = ctx.oidc?.client;
    if (client) {
      entry.clientId = client.clientId;
      if (!basic)
        entry.authMethod = client.clientAuthMethod === 'none' || JWT_METHODS.has(client.clientAuthMethod) || MTLS_METHODS.has(client.clientAuthMethod) ? client.clientAuthMethod : 'client_secret_post';
    }
    try {
      entry.grantType = ctx.oidc?.params?.grant_type;
    } catch {
      /* params not parsed */
    }
    entry.status = ctx.status;
    if (ctx.status >= 400 && ctx.body && typeof ctx.body === 'object') entry.error = ctx.body.error;
    // Post-check: body credentials used by a client registered for client_secret_basic.
    // (The request was already processed, e.g. a code consumed; the caller still gets the 401.)
    if (strictClientAuth && client && !basic && SECRET_METHODS.has(client.clientAuthMethod) && client.clientAuthMethod !== 'client_secret_post' && ctx.status < 400) {
      reject(client.clientAuthMethod, 'client_secret_post');
    }
    return undefined;
  });

  function failNext(fault) {
    faults.push({ path: '/token', status: 500, body: { error: 'server_error', error_description: 'injected by harness' }, count: 1, ...fault });
  }

  const oidcCallback = provider.callback();
  server.on('request', (req, res) => {
    const { pathname } = new URL(req.url, issuer);
    if (pathname.startsWith('/__harness/')) {
      harnessRoute(req, res, pathname);
      return;
    }
    const i = faults.findIndex((f) => f.path === pathname && f.count > 0);
    if (i >= 0) {
      const f = faults[i];
      f.count -= 1;
      if (f.count <= 0) faults.splice(i, 1);
      req.resume();
      const body = typeof f.body === 'string' ? f.body : JSON.stringify(f.body);
      res.writeHead(f.status, { 'content-type': typeof f.body === 'string' ? 'text/plain' : 'application/json', 'cache-control': 'no-store', ...f.headers });
      res.end(body);
      return;
    }
    oidcCallback(req, res);
  });

  function harnessRoute(req, res, pathname) {
    const json = (status, obj) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(obj));
    };
    if (pathname === '/__harness/requests' && req.method === 'GET') return json(200, requests);
    if (pathname === '/__harness/requests' && req.method === 'DELETE') {
      requests.length = 0;
      return json(200, { ok: true });
    }
    if (pathname === '/__harness/fail-next' && req.method === 'POST') {
      let raw = '';
      req.on('data', (c) => {
        raw += c;
      });
      req.on('end', () => {
        try {
          failNext(raw ? JSON.parse(raw) : {});
          json(200, { ok: true, pending: faults.length });
        } catch (e) {
          json(400, { error: e.message });
        }
      });
      return undefined;
    }
    return json(404, { error: 'not_found' });
  }

  return { requests, failNext };
}
