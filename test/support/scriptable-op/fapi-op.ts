// A scriptable FAPI 2.0 authorization server and resource for the FAPI 2.0 Security Profile client
// plan (issue 25), OpenID Connect with plain (query) authorization responses, in two variants
// (fapi-binding.ts): private_key_jwt + DPoP-bound tokens with server nonces, and tls_client_auth +
// certificate-bound tokens on a TLS listener reached through `mtls_endpoint_aliases`; with
// `messageSigning` (DPoP variant) it takes only signed request objects and answers with JARM
// (fapi-message-signing.ts), as the FAPI 2.0 Message Signing plan's server does. It does what
// the plan's emulated server does: PAR only, RFC 9207 `iss` in every authorization response, PS256
// ID tokens, sender-constrained tokens at the resource. Each module changes one thing through
// `op.script`; every request is recorded, so a test can assert that nothing reached the server
// after a refusal. It exists beside test/support/fapi-provider.ts (oidc-provider in FAPI 2.0 mode,
// the real part) because oidc-provider cannot be made to send a wrong ID token, `iss` or token type.
import { createHash, randomBytes } from 'node:crypto';
import type { JWK, JWTPayload } from 'jose';
import { jarmResponse, MESSAGE_SIGNING_DISCOVERY, readRequestObject } from './fapi-message-signing';
import { dpopBinding, isReply, mtlsBinding, type DpopScript, type SenderBinding } from './fapi-binding';
import { newKey, signJwt, type Signing } from './keys';
import { json, serve, type IncomingCall, type Reply, type TlsListener } from './serve';

export interface FapiOpRequest {
  method: string;
  /** `http://…` (the issuer) or `https://…` (the TLS listener of the mTLS variant). */
  origin: string;
  path: string;
  query: URLSearchParams;
  form: URLSearchParams;
  authorization: string | undefined;
  /** What the request was bound with, when it proved one: the DPoP proof's claims, or the certificate's thumbprint. */
  dpop: JWTPayload | undefined;
  binding: string | undefined;
}

/** What a module changes; every hook gets the honest value. */
export interface FapiOpScript extends DpopScript {
  discovery?: (doc: Record<string, unknown>) => Record<string, unknown>;
  /** The authorization response parameters (`code`, `state`, `iss`) sent back to the redirect URI. */
  authorizationResponse?: (params: URLSearchParams) => URLSearchParams;
  /** Claims of the ID token; `undefined` claims are left out. */
  idTokenClaims?: (claims: JWTPayload) => JWTPayload;
  idTokenSigning?: () => Signing;
  /** The whole token response body (after the ID token is signed). */
  tokenResponse?: (body: Record<string, unknown>) => Record<string, unknown>;
}

interface Grant {
  sub: string;
  nonce: string | null;
  scope: string;
  /** The DPoP key's or the certificate's thumbprint the tokens are bound to. */
  binding: string;
}

export type FapiOpOptions = { clientId?: string } & ({ variant: 'dpop'; clientPublicJwk: JWK; messageSigning?: boolean } | { variant: 'mtls'; tls: TlsListener; clientSubjectDn: string });

export async function startFapiScriptableOp(options: FapiOpOptions) {
  const clientId = options.clientId ?? 'fapi-conformance-rp';
  const requests: FapiOpRequest[] = [];
  const pushed = new Map<string, URLSearchParams>();
  const codes = new Map<string, { params: URLSearchParams; sub: string }>();
  const accessTokens = new Map<string, Grant>();
  const refreshTokens = new Map<string, Grant>();
  const signingKey = await newKey('PS256');
  // Published without `alg`: the key is RSA, so only the RP's own allow-list can refuse RS256.
  const publishedKey = { ...signingKey.jwk, alg: undefined };
  let script: FapiOpScript = {};
  let issuer = '';
  let tlsOrigin: string | undefined = undefined;
  const dpop = options.variant === 'dpop' ? await dpopBinding(clientId, options.clientPublicJwk, () => script) : undefined;
  const binding: SenderBinding = dpop?.binding ?? mtlsBinding(clientId, (options as { clientSubjectDn: string }).clientSubjectDn).binding;
  const messageSigning = options.variant === 'dpop' && options.messageSigning === true ? options.clientPublicJwk : undefined;
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
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['openid', 'profile', 'offline_access'],
      ...binding.discovery(issuer, tlsOrigin),
      ...(messageSigning ? MESSAGE_SIGNING_DISCOVERY : {}),
    };
    return script.discovery ? script.discovery(doc) : doc;
  }

  async function tokenResponse(grant: Grant, withIdToken: boolean): Promise<Record<string, unknown>> {
    const accessToken = token('at');
    const refreshToken = token('rt');
    accessTokens.set(accessToken, grant);
    refreshTokens.set(refreshToken, grant);
    const body: Record<string, unknown> = { access_token: accessToken, token_type: binding.tokenType, expires_in: 300, refresh_token: refreshToken, scope: grant.scope };
    if (withIdToken) {
      const base: JWTPayload = { iss: issuer, sub: grant.sub, aud: clientId, exp: now() + 300, iat: now(), auth_time: now(), ...(grant.nonce ? { nonce: grant.nonce } : {}) };
      const claims = script.idTokenClaims ? script.idTokenClaims(base) : base;
      for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
      body.id_token = await signJwt(claims, signingKey, script.idTokenSigning?.());
    }
    return script.tokenResponse ? script.tokenResponse(body) : body;
  }

  async function tokenEndpoint(call: IncomingCall, req: FapiOpRequest): Promise<Reply> {
    if (!(await binding.authenticateClient(call, issuer))) return json(401, { error: 'invalid_client' });
    const bound = await binding.atToken(call);
    if (isReply(bound)) return bound;
    [req.dpop, req.binding] = [bound.proof, bound.binding];
    const f = call.form;
    if (f.get('grant_type') === 'authorization_code') {
      const entry = codes.get(f.get('code') ?? '');
      codes.delete(f.get('code') ?? '');
      const challenge = createHash('sha256')
        .update(f.get('code_verifier') ?? '')
        .digest('base64url');
      if (!entry || entry.params.get('redirect_uri') !== f.get('redirect_uri') || entry.params.get('code_challenge') !== challenge) return json(400, { error: 'invalid_grant' });
      const scope = entry.params.get('scope') ?? '';
      const grant = { sub: entry.sub, nonce: entry.params.get('nonce'), scope, binding: bound.binding };
      return json(200, await tokenResponse(grant, scope.split(' ').includes('openid')), bound.headers);
    }
    if (f.get('grant_type') === 'refresh_token') {
      const grant = refreshTokens.get(f.get('refresh_token') ?? '');
      if (!grant || grant.binding !== bound.binding) return json(400, { error: 'invalid_grant' });
      refreshTokens.delete(f.get('refresh_token') ?? '');
      return json(200, await tokenResponse({ ...grant, nonce: null }, false), bound.headers);
    }
    return json(400, { error: 'unsupported_grant_type' });
  }

  async function resource(call: IncomingCall, req: FapiOpRequest): Promise<Reply> {
    const [scheme, accessToken] = (req.authorization ?? '').split(' ');
    const grant = accessTokens.get(accessToken ?? '');
    const invalid = { status: 401, headers: { 'www-authenticate': `${binding.tokenType} error="invalid_token"` } };
    if (scheme?.toLowerCase() !== binding.tokenType.toLowerCase() || !grant) return invalid;
    const bound = await binding.atResource(call, accessToken as string);
    if (isReply(bound)) return bound;
    [req.dpop, req.binding] = [bound.proof, bound.binding];
    return bound.binding === grant.binding ? json(200, { sub: grant.sub }) : invalid;
  }

  async function handle(call: IncomingCall, req: FapiOpRequest): Promise<Reply> {
    switch (`${req.method} ${req.path}`) {
      case 'GET /.well-known/openid-configuration':
        return json(200, discovery());
      case 'GET /jwks':
        return json(200, { keys: [publishedKey] });
      case 'POST /par': {
        if (!(await binding.authenticateClient(call, issuer))) return json(401, { error: 'invalid_client' });
        const f = messageSigning ? await readRequestObject(req.form, messageSigning, clientId, issuer) : req.form;
        if (!f) return json(400, { error: 'invalid_request_object' });
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
        const sent = script.authorizationResponse ? script.authorizationResponse(response) : response;
        if (params.get('response_mode') === 'jwt') back.searchParams.set('response', await jarmResponse(sent, signingKey, issuer, clientId));
        else for (const [k, v] of sent) back.searchParams.set(k, v);
        return { status: 303, headers: { location: back.toString() } };
      }
      case 'POST /token':
        return tokenEndpoint(call, req);
      case 'GET /api/me':
        return resource(call, req);
      default:
        return json(404, { error: 'not_found' });
    }
  }

  const record = async (call: IncomingCall) => {
    const req: FapiOpRequest = {
      method: call.method,
      origin: call.origin,
      path: call.path,
      query: call.query,
      form: call.form,
      authorization: call.headers.authorization,
      dpop: undefined,
      binding: undefined,
    };
    requests.push(req);
    return handle(call, req);
  };
  const server = await serve(record);
  const tls = options.variant === 'mtls' ? await serve(record, options.tls) : undefined;
  issuer = server.origin;
  tlsOrigin = tls?.origin;

  return {
    issuer,
    /** The TLS listener's origin (mTLS variant): the token, PAR and resource endpoints a certificate reaches. */
    tlsOrigin,
    clientId,
    variant: options.variant,
    requests,
    /** The DPoP nonces the token endpoint and the resource demand (DPoP variant). */
    nonces: dpop?.nonces,
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
    stop: () => Promise.all([server.stop(), tls?.stop()]).then(() => undefined),
  };
}

export type FapiScriptableOp = Awaited<ReturnType<typeof startFapiScriptableOp>>;
