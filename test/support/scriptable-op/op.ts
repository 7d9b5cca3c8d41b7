// A scriptable OpenID provider the conformance tests own (issue 24): discovery, JWKS (with
// rotation), authorize (no UI: straight back with a code), token (code with PKCE and
// client_secret_basic, refresh with rotation), UserInfo, end-session, and a back-channel logout
// sender. Each OIDF module changes one thing through `op.script` (a claim, the signature, the
// discovery document, the state on the way back) and asserts what the RP does with it. Every
// request is recorded, so a test can assert that nothing reached the provider after a refusal.
// Real parts where they exist (test/support/authorization-server.ts runs oidc-provider); this
// one exists because oidc-provider cannot be made to send wrong tokens.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { newKey, signJwt, type OpKey, type Signing } from './keys';
import { json, serve, type Reply } from './serve';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export interface OpRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  form: URLSearchParams;
  authorization: string | undefined;
}

export type Grant = 'authorization_code' | 'refresh_token';

/** What a module changes; every hook is optional and gets the honest value to change. */
export interface OpScript {
  discovery?: (doc: Record<string, unknown>) => Record<string, unknown>;
  /** Claims of the ID token of a token response (login or refresh); `undefined` claims are left out. */
  idTokenClaims?: (claims: JWTPayload, grant: Grant) => JWTPayload;
  idTokenSigning?: (grant: Grant) => Signing;
  /** The whole token response body (after the ID token is signed). */
  tokenResponse?: (body: Record<string, unknown>, grant: Grant) => Record<string, unknown>;
  userinfo?: (claims: Record<string, unknown>) => Record<string, unknown>;
  /** The `state` sent back to `post_logout_redirect_uri` (default: the one received). */
  endSessionState?: (received: string | null) => string | null;
}

interface Login {
  sub: string;
  sid: string;
  nonce: string | null;
  scope: string[];
  authTime: number;
}

export interface ScriptableOpOptions {
  clientId?: string;
  clientSecret?: string;
  /** The user who logs in at /authorize (its `sub`). */
  sub?: string;
}

export const USER_CLAIMS = { name: 'Alice Example', given_name: 'Alice', email: 'alice@example.com', email_verified: true } as const;

export async function startScriptableOp(options: ScriptableOpOptions = {}) {
  const clientId = options.clientId ?? 'conformance-rp';
  const clientSecret = options.clientSecret ?? 'conformance-rp-secret-0123456789abcdef';
  const requests: OpRequest[] = [];
  const codes = new Map<string, Login & { redirectUri: string; challenge: string | null }>();
  const refreshTokens = new Map<string, Login>();
  const accessTokens = new Map<string, Login>();
  const rsa = await newKey('RS256');
  const ec = await newKey('ES256');
  const keys = { signing: rsa, published: [rsa] as OpKey[] };
  let script: OpScript = {};
  let issuer = '';
  let sub = options.sub ?? 'alice-0001';
  const logins: Login[] = [];
  /** Every token response sent (after the script changed it), latest last. */
  const issued: Array<{ grant: Grant; body: Record<string, unknown> }> = [];

  const now = () => Math.floor(Date.now() / 1000);
  const token = (prefix: string) => `${prefix}-${randomBytes(12).toString('base64url')}`;

  function discovery(): Record<string, unknown> {
    const doc = {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      userinfo_endpoint: `${issuer}/userinfo`,
      jwks_uri: `${issuer}/jwks`,
      end_session_endpoint: `${issuer}/end-session`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      claims_supported: ['sub', 'name', 'given_name', 'email', 'email_verified'],
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
    };
    return script.discovery ? script.discovery(doc) : doc;
  }

  async function tokenResponse(login: Login, grant: Grant): Promise<Record<string, unknown>> {
    const accessToken = token('at');
    const refreshToken = token('rt');
    accessTokens.set(accessToken, login);
    refreshTokens.set(refreshToken, login);
    const base: JWTPayload = { iss: issuer, sub: login.sub, aud: clientId, exp: now() + 300, iat: now(), auth_time: login.authTime, sid: login.sid, ...(login.nonce ? { nonce: login.nonce } : {}) };
    const claims = script.idTokenClaims ? script.idTokenClaims(base, grant) : base;
    for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
    const idToken = await signJwt(claims, keys.signing, script.idTokenSigning?.(grant));
    const body = { access_token: accessToken, token_type: 'Bearer', expires_in: 300, refresh_token: refreshToken, id_token: idToken, scope: login.scope.join(' ') };
    const sent = script.tokenResponse ? script.tokenResponse(body, grant) : body;
    issued.push({ grant, body: sent });
    return sent;
  }

  function clientAuthenticated(authorization: string | undefined): boolean {
    const [scheme, value] = (authorization ?? '').split(' ');
    if (scheme?.toLowerCase() !== 'basic' || !value) return false;
    const [id, secret] = Buffer.from(value, 'base64')
      .toString()
      .split(':')
      .map((s) => decodeURIComponent(s));
    return id === clientId && secret === clientSecret;
  }

  const redirect = (to: URL): Reply => ({ status: 302, headers: { location: to.toString() } });
  const attr = (v: string) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const formPost = (action: string, fields: URLSearchParams): Reply => ({
    status: 200,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    body: `<!DOCTYPE html><html><body onload="document.forms[0].submit()"><form method="post" action="${attr(action)}">${[...fields].map(([k, v]) => `<input type="hidden" name="${attr(k)}" value="${attr(v)}"/>`).join('')}</form></body></html>`,
  });

  async function handle(req: OpRequest): Promise<Reply> {
    switch (`${req.method} ${req.path}`) {
      case 'GET /.well-known/openid-configuration':
        return json(200, discovery());
      case 'GET /jwks':
        return json(200, { keys: keys.published.map((k) => k.jwk) });
      case 'GET /authorize': {
        const q = req.query;
        const redirectUri = q.get('redirect_uri') ?? '';
        if (q.get('client_id') !== clientId || q.get('response_type') !== 'code' || !redirectUri) return json(400, { error: 'invalid_request' });
        const code = token('code');
        const login: Login = { sub, sid: randomUUID(), nonce: q.get('nonce'), scope: (q.get('scope') ?? '').split(' ').filter(Boolean), authTime: now() };
        logins.push(login);
        codes.set(code, { ...login, redirectUri, challenge: q.get('code_challenge_method') === 'S256' ? q.get('code_challenge') : null });
        const response = new URLSearchParams({ code });
        if (q.get('state') !== null) response.set('state', q.get('state') as string);
        // OAuth 2.0 Form Post Response Mode: the response as an auto-submitting form (Form Post RP plan).
        if (q.get('response_mode') === 'form_post') return formPost(redirectUri, response);
        const back = new URL(redirectUri);
        for (const [k, v] of response) back.searchParams.set(k, v);
        return redirect(back);
      }
      case 'POST /token': {
        if (!clientAuthenticated(req.authorization)) return json(401, { error: 'invalid_client' });
        const f = req.form;
        if (f.get('grant_type') === 'authorization_code') {
          const code = codes.get(f.get('code') ?? '');
          codes.delete(f.get('code') ?? '');
          const verifier = f.get('code_verifier') ?? '';
          const pkceOk = code?.challenge === null || createHash('sha256').update(verifier).digest('base64url') === code?.challenge;
          if (!code || code.redirectUri !== f.get('redirect_uri') || !pkceOk) return json(400, { error: 'invalid_grant' });
          return json(200, await tokenResponse(code, 'authorization_code'));
        }
        if (f.get('grant_type') === 'refresh_token') {
          const login = refreshTokens.get(f.get('refresh_token') ?? '');
          if (!login) return json(400, { error: 'invalid_grant' });
          refreshTokens.delete(f.get('refresh_token') ?? '');
          return json(200, await tokenResponse({ ...login, nonce: null }, 'refresh_token'));
        }
        return json(400, { error: 'unsupported_grant_type' });
      }
      case 'GET /userinfo':
      case 'GET /api/me': {
        const login = accessTokens.get(/^Bearer (.+)$/.exec(req.authorization ?? '')?.[1] ?? '');
        if (!login) return { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } };
        if (req.path === '/api/me') return json(200, { sub: login.sub });
        const claims: Record<string, unknown> = { sub: login.sub };
        if (login.scope.includes('profile')) Object.assign(claims, { name: USER_CLAIMS.name, given_name: USER_CLAIMS.given_name });
        if (login.scope.includes('email')) Object.assign(claims, { email: USER_CLAIMS.email, email_verified: USER_CLAIMS.email_verified });
        return json(200, script.userinfo ? script.userinfo(claims) : claims);
      }
      case 'GET /end-session': {
        const back = req.query.get('post_logout_redirect_uri');
        if (!back) return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'logged out' };
        const to = new URL(back);
        const state = script.endSessionState ? script.endSessionState(req.query.get('state')) : req.query.get('state');
        if (state !== null) to.searchParams.set('state', state);
        return redirect(to);
      }
      default:
        return json(404, { error: 'not_found' });
    }
  }

  const server = await serve(async (call) => {
    const recorded: OpRequest = { method: call.method, path: call.path, query: call.query, form: call.form, authorization: call.headers.authorization };
    requests.push(recorded);
    return handle(recorded);
  });
  issuer = server.origin;

  return {
    issuer,
    clientId,
    clientSecret,
    requests,
    keys,
    /** The provider's EC key (published only when a test publishes it). */
    ec,
    get script(): OpScript {
      return script;
    },
    set script(next: OpScript) {
      script = next;
    },
    /** The user the next /authorize logs in. */
    setUser(next: string) {
      sub = next;
    },
    /** The logins /authorize started, latest last (their `sub` and `sid`). */
    logins,
    issued,
    /** Requests recorded from index `from` on, as `METHOD /path`. */
    since(from: number): string[] {
      return requests.slice(from).map((r) => `${r.method} ${r.path}`);
    },
    /** A new RS256 signing key; the JWKS then publishes the new key, and the old one too when `keepOld`. */
    async rotate(keepOld = false): Promise<OpKey> {
      const next = await newKey('RS256');
      keys.published = keepOld ? [...keys.published, next] : [next];
      keys.signing = next;
      return next;
    },
    /** Back to the first key and an empty script. */
    reset() {
      script = {};
      keys.signing = rsa;
      keys.published = [rsa];
      sub = options.sub ?? 'alice-0001';
    },
    /** A logout token for a login (OIDC Back-Channel Logout 1.0 §2.4), changed by `claims`, signed by `signing`. */
    logoutToken(login: { sub: string; sid: string }, change: (claims: JWTPayload) => JWTPayload = (c) => c, signing?: Signing): Promise<string> {
      const claims = change({ iss: issuer, aud: clientId, iat: now(), exp: now() + 120, jti: randomUUID(), sub: login.sub, sid: login.sid, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } });
      for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
      return signJwt(claims, keys.signing, signing);
    },
    /** The back-channel sender: POST the logout token to the RP's back-channel logout URI; the RP's status. */
    async sendLogoutToken(uri: string, logoutToken: string): Promise<number> {
      const res = await fetch(uri, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ logout_token: logoutToken }) });
      await res.arrayBuffer();
      return res.status;
    },
    stop: server.stop,
  };
}

export type ScriptableOp = Awaited<ReturnType<typeof startScriptableOp>>;
