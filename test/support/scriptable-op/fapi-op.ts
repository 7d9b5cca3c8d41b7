// A scriptable FAPI 2.0 authorization server and resource for the FAPI 2.0 Security Profile client
// plan (issue 25), in the variant this package certifies against: private_key_jwt + DPoP, OpenID
// Connect, plain (query) authorization responses. It does what the plan's emulated server does:
// PAR only, RFC 9207 `iss` in every authorization response, PS256 ID tokens, DPoP-bound tokens, and
// a DPoP nonce demanded by the token endpoint and the resource (RFC 9449 §8, §9) until a proof
// carries it. Each module changes one thing through `op.script`; every request is recorded, so a
// test can assert that nothing reached the server after a refusal. It exists beside
// test/support/fapi-provider.ts (oidc-provider in FAPI 2.0 mode, the real part) because
// oidc-provider cannot be made to send a wrong ID token, `iss` or token type.
import { createHash, randomBytes } from 'node:crypto';
import type http from 'node:http';
import { calculateJwkThumbprint, decodeProtectedHeader, importJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';
import { newKey, signJwt, type Signing } from './keys';
import { json, serve, type Reply } from './serve';

export interface FapiOpRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  form: URLSearchParams;
  authorization: string | undefined;
  /** The DPoP proof's claims, when the request carried a valid one. */
  dpop: JWTPayload | undefined;
}

/** What a module changes; every hook gets the honest value. */
export interface FapiOpScript {
  discovery?: (doc: Record<string, unknown>) => Record<string, unknown>;
  /** The authorization response parameters (`code`, `state`, `iss`) sent back to the redirect URI. */
  authorizationResponse?: (params: URLSearchParams) => URLSearchParams;
  /** Claims of the ID token; `undefined` claims are left out. */
  idTokenClaims?: (claims: JWTPayload) => JWTPayload;
  idTokenSigning?: () => Signing;
  /** The whole token response body (after the ID token is signed). */
  tokenResponse?: (body: Record<string, unknown>) => Record<string, unknown>;
  /** `false`: no endpoint asks for a DPoP nonce (default: the token endpoint and the resource do). */
  dpopNonce?: boolean;
  /** The auth scheme of the resource's `use_dpop_nonce` challenge (default `DPoP`). */
  resourceChallengeScheme?: string;
}

interface Grant {
  sub: string;
  nonce: string | null;
  scope: string;
  jkt: string;
}

const DPOP_MAX_AGE_SECONDS = 60;

export async function startFapiScriptableOp(options: { clientId?: string; clientPublicJwk: JWK }) {
  const clientId = options.clientId ?? 'fapi-conformance-rp';
  const requests: FapiOpRequest[] = [];
  const pushed = new Map<string, URLSearchParams>();
  const codes = new Map<string, { params: URLSearchParams; sub: string }>();
  const accessTokens = new Map<string, Grant>();
  const refreshTokens = new Map<string, Grant>();
  const seenJtis = new Set<string>();
  const signingKey = await newKey('PS256');
  // Published without `alg`: the key is RSA, so only the RP's own allow-list can refuse RS256.
  const publishedKey = { ...signingKey.jwk, alg: undefined };
  const clientKey = await importJWK(options.clientPublicJwk, 'PS256');
  let script: FapiOpScript = {};
  let issuer = '';
  // RFC 9449 §8, §9: the authorization server and the resource server keep their own nonces.
  const dpopNonce = `as-nonce-${randomBytes(12).toString('base64url')}`;
  const resourceNonce = `rs-nonce-${randomBytes(12).toString('base64url')}`;
  const now = () => Math.floor(Date.now() / 1000);
  const token = (prefix: string) => `${prefix}-${randomBytes(12).toString('base64url')}`;

  function discovery(): Record<string, unknown> {
    const doc = {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      pushed_authorization_request_endpoint: `${issuer}/par`,
      require_pushed_authorization_requests: true,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      subject_types_supported: ['public'],
      authorization_response_iss_parameter_supported: true,
      id_token_signing_alg_values_supported: ['PS256'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['PS256', 'ES256'],
      dpop_signing_alg_values_supported: ['ES256', 'PS256'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['openid', 'profile', 'offline_access'],
    };
    return script.discovery ? script.discovery(doc) : doc;
  }

  /** private_key_jwt (RFC 7523): a client assertion signed with the client's key, for this server. */
  async function clientAuthenticated(form: URLSearchParams): Promise<boolean> {
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return false;
    try {
      const { payload } = await jwtVerify(form.get('client_assertion') ?? '', clientKey, {
        issuer: clientId,
        subject: clientId,
        audience: [issuer, `${issuer}/token`, `${issuer}/par`],
        algorithms: ['PS256'],
      });
      if (typeof payload.jti !== 'string' || seenJtis.has(`ca:${payload.jti}`)) return false;
      seenJtis.add(`ca:${payload.jti}`);
      return true;
    } catch {
      return false;
    }
  }

  /** An RFC 9449 §4.3 proof check: its claims and the thumbprint of its key, or the error. */
  async function checkProof(proof: string | undefined, method: string, url: string, nonce: string, accessToken?: string): Promise<{ claims: JWTPayload; jkt: string } | { error: string }> {
    if (!proof) return { error: 'invalid_dpop_proof' };
    try {
      const header = decodeProtectedHeader(proof);
      if (header.typ !== 'dpop+jwt' || !header.jwk) return { error: 'invalid_dpop_proof' };
      const { payload } = await jwtVerify(proof, await importJWK(header.jwk, header.alg), { algorithms: ['ES256', 'PS256'], maxTokenAge: DPOP_MAX_AGE_SECONDS });
      if (payload.htm !== method || payload.htu !== url || typeof payload.jti !== 'string' || seenJtis.has(payload.jti)) return { error: 'invalid_dpop_proof' };
      if (accessToken !== undefined && payload.ath !== createHash('sha256').update(accessToken).digest('base64url')) return { error: 'invalid_dpop_proof' };
      if (script.dpopNonce !== false && payload.nonce !== nonce) return { error: 'use_dpop_nonce' };
      seenJtis.add(payload.jti);
      return { claims: payload, jkt: await calculateJwkThumbprint(header.jwk) };
    } catch {
      return { error: 'invalid_dpop_proof' };
    }
  }
  const nonceHeader = (nonce = dpopNonce): Record<string, string> => (script.dpopNonce === false ? {} : { 'dpop-nonce': nonce });

  async function tokenResponse(grant: Grant, withIdToken: boolean): Promise<Record<string, unknown>> {
    const accessToken = token('at');
    const refreshToken = token('rt');
    accessTokens.set(accessToken, grant);
    refreshTokens.set(refreshToken, grant);
    const body: Record<string, unknown> = { access_token: accessToken, token_type: 'DPoP', expires_in: 300, refresh_token: refreshToken, scope: grant.scope };
    if (withIdToken) {
      const base: JWTPayload = { iss: issuer, sub: grant.sub, aud: clientId, exp: now() + 300, iat: now(), auth_time: now(), ...(grant.nonce ? { nonce: grant.nonce } : {}) };
      const claims = script.idTokenClaims ? script.idTokenClaims(base) : base;
      for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
      body.id_token = await signJwt(claims, signingKey, script.idTokenSigning?.());
    }
    return script.tokenResponse ? script.tokenResponse(body) : body;
  }

  async function handle(req: FapiOpRequest, headers: http.IncomingHttpHeaders): Promise<Reply> {
    switch (`${req.method} ${req.path}`) {
      case 'GET /.well-known/openid-configuration':
        return json(200, discovery());
      case 'GET /jwks':
        return json(200, { keys: [publishedKey] });
      case 'POST /par': {
        if (!(await clientAuthenticated(req.form))) return json(401, { error: 'invalid_client' });
        const f = req.form;
        if (f.get('response_type') !== 'code' || f.get('code_challenge_method') !== 'S256' || !f.get('code_challenge') || !f.get('redirect_uri')) return json(400, { error: 'invalid_request' });
        const requestUri = `urn:ietf:params:oauth:request_uri:${token('par')}`;
        pushed.set(requestUri, f);
        return json(201, { request_uri: requestUri, expires_in: 60 });
      }
      case 'GET /authorize': {
        const params = pushed.get(req.query.get('request_uri') ?? '');
        pushed.delete(req.query.get('request_uri') ?? '');
        if (!params || req.query.get('client_id') !== clientId) return json(400, { error: 'invalid_request_uri' });
        const code = token('code');
        codes.set(code, { params, sub: 'alice-fapi' });
        const response = new URLSearchParams({ code, ...(params.get('state') !== null ? { state: params.get('state') as string } : {}), iss: issuer });
        const back = new URL(params.get('redirect_uri') as string);
        for (const [k, v] of script.authorizationResponse ? script.authorizationResponse(response) : response) back.searchParams.set(k, v);
        return { status: 303, headers: { location: back.toString() } };
      }
      case 'POST /token': {
        if (!(await clientAuthenticated(req.form))) return json(401, { error: 'invalid_client' });
        const proof = await checkProof(headers.dpop as string | undefined, 'POST', `${issuer}/token`, dpopNonce);
        if ('error' in proof) return json(400, { error: proof.error }, nonceHeader());
        req.dpop = proof.claims;
        const f = req.form;
        if (f.get('grant_type') === 'authorization_code') {
          const entry = codes.get(f.get('code') ?? '');
          codes.delete(f.get('code') ?? '');
          const verifier = createHash('sha256')
            .update(f.get('code_verifier') ?? '')
            .digest('base64url');
          if (!entry || entry.params.get('redirect_uri') !== f.get('redirect_uri') || entry.params.get('code_challenge') !== verifier) return json(400, { error: 'invalid_grant' });
          const scope = entry.params.get('scope') ?? '';
          return json(200, await tokenResponse({ sub: entry.sub, nonce: entry.params.get('nonce'), scope, jkt: proof.jkt }, scope.split(' ').includes('openid')), nonceHeader());
        }
        if (f.get('grant_type') === 'refresh_token') {
          const grant = refreshTokens.get(f.get('refresh_token') ?? '');
          if (!grant || grant.jkt !== proof.jkt) return json(400, { error: 'invalid_grant' });
          refreshTokens.delete(f.get('refresh_token') ?? '');
          return json(200, await tokenResponse({ ...grant, nonce: null }, false), nonceHeader());
        }
        return json(400, { error: 'unsupported_grant_type' });
      }
      case 'GET /api/me': {
        const [scheme, accessToken] = (req.authorization ?? '').split(' ');
        const grant = accessTokens.get(accessToken ?? '');
        if (scheme?.toLowerCase() !== 'dpop' || !grant) return { status: 401, headers: { 'www-authenticate': 'DPoP error="invalid_token"' } };
        const proof = await checkProof(headers.dpop as string | undefined, 'GET', `${issuer}/api/me`, resourceNonce, accessToken);
        if ('error' in proof) {
          const challenge = `${script.resourceChallengeScheme ?? 'DPoP'} error="${proof.error}", algs="ES256 PS256"`;
          return { status: 401, headers: { 'www-authenticate': challenge, ...nonceHeader(resourceNonce) } };
        }
        req.dpop = proof.claims;
        if (proof.jkt !== grant.jkt) return { status: 401, headers: { 'www-authenticate': 'DPoP error="invalid_token"' } };
        return json(200, { sub: grant.sub });
      }
      default:
        return json(404, { error: 'not_found' });
    }
  }

  const server = await serve(async (call) => {
    const recorded: FapiOpRequest = { method: call.method, path: call.path, query: call.query, form: call.form, authorization: call.headers.authorization, dpop: undefined };
    requests.push(recorded);
    return handle(recorded, call.headers);
  });
  issuer = server.origin;

  return {
    issuer,
    clientId,
    requests,
    dpopNonce,
    resourceNonce,
    get script(): FapiOpScript {
      return script;
    },
    set script(next: FapiOpScript) {
      script = next;
    },
    /** Requests recorded from index `from` on, as `METHOD /path`, without the metadata fetches (discovery, JWKS). */
    since(from: number): string[] {
      return requests
        .slice(from)
        .map((r) => `${r.method} ${r.path}`)
        .filter((c) => c !== 'GET /jwks' && c !== 'GET /.well-known/openid-configuration');
    },
    reset() {
      script = {};
    },
    stop: server.stop,
  };
}

export type FapiScriptableOp = Awaited<ReturnType<typeof startFapiScriptableOp>>;
