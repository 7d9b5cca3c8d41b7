import type { Request } from 'express';
import type { JWTPayload } from 'jose';
import { debugFor, tokenId } from '../debug.js';
import type { ProviderEndpoints } from '../protocol/discovery.js';
import { generateDpopKey } from '../protocol/dpop.js';
import type { TokenSet } from '../protocol/token-set.js';
import type { LoginStore, ReplacedLogin } from '../session/login-store.js';
import { withAuthenticationContext } from '../session/session-data.js';
import type { LoginMarker, PendingLogin } from '../session/session-format.js';
import type { TokenRecord } from '../session/token-record.js';
import type { EndedTokens } from '../session/token-records.js';
import type { ProviderLink } from './provider-link.js';
import type { LoginRef, Refresher } from './refresh.js';
import { LoginGrants } from './login-grants.js';
import { exchangeGrant, resourceGrant, type ExchangeRequest } from './api-grants.js';
import type { ApiToken } from '../session/record-format.js';
import { revokeEnded } from './revoke.js';
import type { TokenEvents } from './token-events.js';
import { userInfoAtLogin } from './userinfo.js';
import { validateLoginResponse } from './validate-tokens.js';

const log = debugFor('tokens');

/** ID-token claims that are protocol plumbing, not facts about the user (`acr`, `amr`, `auth_time` are: step-up checks). */
const PROTOCOL_CLAIMS = new Set(['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'nonce', 'at_hash', 'c_hash', 'azp', 'sid', 'jti']);

function markerOf(claims: Record<string, unknown> | undefined, now: number): LoginMarker {
  const marker: LoginMarker = { authenticatedAt: now };
  if (typeof claims?.sub === 'string') marker.sub = claims.sub;
  const extra = Object.fromEntries(Object.entries(claims ?? {}).filter(([k]) => !PROTOCOL_CLAIMS.has(k)));
  if (Object.keys(extra).length > 0) marker.claims = extra;
  return marker;
}

/** A callback that passed its checks: the claimed transaction and the authorization code. */
export interface AuthorizedCallback {
  link: ProviderLink;
  endpoints: ProviderEndpoints;
  code: string;
  pending: PendingLogin;
}

/**
 * The one token lifecycle, from grant to revoke: obtain (code exchange here, refresh in
 * refresh.ts, client credentials and password in grant-client.ts) → validate (validate-tokens.ts)
 * → store (the login store) → announce (token-events.ts, once) → end (revoke with the login's
 * DPoP proof, announce, once). Every site that ends a login, for any reason, comes through here.
 */
/** What the lifecycle calls: the login store, the announce step, the refresher, and the `idpLogout` option. */
export interface TokenLifecycleOptions {
  logins: LoginStore;
  announce: TokenEvents;
  refresher: Refresher;
  idpLogout: boolean;
}

export class TokenLifecycle {
  private readonly logins: LoginStore;
  private readonly announce: TokenEvents;
  private readonly refresher: Refresher;
  private readonly idpLogout: boolean;
  private readonly grants: LoginGrants;

  constructor(options: TokenLifecycleOptions) {
    this.logins = options.logins;
    this.announce = options.announce;
    this.refresher = options.refresher;
    this.idpLogout = options.idpLogout;
    this.grants = new LoginGrants(options.refresher, options.announce);
  }

  /** Login: exchange the code, validate, store the login in a regenerated session, announce it. Returns the new session id. */
  async completeLogin(req: Request, callback: AuthorizedCallback): Promise<string> {
    const { link, endpoints, code, pending } = callback;
    const { provider } = link;
    const dpop = provider.dpop ? await generateDpopKey() : undefined;
    const body = await link.telemetry.tokenRequest('oauth2.code_exchange', { provider: link.name, tokenUrl: endpoints.tokenUrl, grantType: 'authorization_code' }, () =>
      link.tokenEndpoint.exchangeCode(endpoints.tokenUrl, { code, redirectUri: provider.redirectUri, codeVerifier: pending.codeVerifier }, dpop),
    );
    const { tokens, claims, stored } = await validateLoginResponse(
      link,
      endpoints,
      body,
      { nonce: pending.nonce, maxAge: pending.maxAge ?? pending.stepUp?.maxAge },
      { now: Date.now(), idpLogout: this.idpLogout },
    );
    const issued: EndedTokens = dpop ? { tokens, dpop } : { tokens };
    let marker: LoginMarker;
    let done;
    try {
      const user = provider.fetchUserInfo ? await userInfoAtLogin(link, issued, claims) : claims;
      marker = withAuthenticationContext(markerOf(user, Date.now()), claims, pending);
      done = await this.logins.completeLogin(req, { provider: link.name, ...stored, marker, sid: sidOf(claims), dpop });
    } catch (err) {
      // The provider issued tokens nobody can use now: revoke them (best effort) before failing.
      await revokeEnded(link, issued, this.announce);
      throw err;
    }
    // Logging in again with the same provider replaces that login: its tokens must not live on.
    // Except when the new login continues the old one's grant (see continuesGrant): revoking the
    // old tokens would end the new ones too. Those are forgotten here, not revoked.
    if (!continuesGrant(done.previous, marker.sub, sidOf(claims))) await revokeEnded(link, done.previous, this.announce);
    else log('login of the same subject and provider session replaced for %s; old tokens forgotten, not revoked (same grant)', link.name);
    log('login completed for %s (token %s)', link.name, tokenId(tokens.accessToken));
    await this.announce.loggedIn(done.sessionId, link.name, tokens, marker.sub);
    return done.sessionId;
  }

  /** Whether the record needs the refresher (it expires within the leeway, or a newer result of this process is still being written). */
  isDue(login: LoginRef, record: TokenRecord): boolean {
    return this.refresher.isDue(login, record);
  }

  /** Resolves when no background work of the lifecycle is running (a refresh result being written). */
  idle(): Promise<void> {
    return this.refresher.idle();
  }

  /** The login's record, refreshed first when it expires within the leeway (refresh.ts). */
  ensureFresh(login: LoginRef, record: TokenRecord): Promise<TokenRecord> {
    return this.refresher.ensureFresh(login, record);
  }

  /**
   * RFC 8707: the login's token for `resource` (+ `scope`), from its record when one is stored and
   * not due, else from the refresh-token grant with `resource` under the login's lock
   * (api-grants.ts, login-grants.ts). `stale`: the API refused that token; get another.
   */
  resourceToken(login: LoginRef, key: string, resource: string, scope: readonly string[], stale?: string): Promise<{ record: TokenRecord; value: ApiToken }> {
    return this.grants.obtain(login, resourceGrant(login.link, key, resource, scope, this.refresher.lockSettings.now, stale));
  }

  /** RFC 8693: an exchanged token for `request`, cached in the login's record under `key` until due. */
  exchangedToken(login: LoginRef, key: string, request: ExchangeRequest, stale?: string): Promise<{ record: TokenRecord; value: ApiToken }> {
    return this.grants.obtain(login, exchangeGrant(login.link, key, request, this.refresher.lockSettings.now, stale));
  }

  /** A refresh now, whatever the expiry: `req.oauth.refresh()`, or the API refused `stale` (refresh.ts). */
  renew(login: LoginRef, stale: TokenRecord): Promise<TokenRecord> {
    return this.refresher.renew(login, stale);
  }

  /**
   * End one provider's login in a session (logout): forget its tokens and marker, revoke them
   * (refresh then access, RFC 7009, with a DPoP proof when bound), announce. Returns the ended
   * tokens (the ID token is the `id_token_hint` of RP-initiated logout).
   */
  async endLogin({ session, link }: LoginRef): Promise<TokenSet | undefined> {
    if (!session.hasLogin(link.name)) return undefined;
    const sessionId = session.sessionId;
    const ended = await session.endLogin(link.name);
    await revokeEnded(link, ended, this.announce);
    await this.announce.loggedOut(sessionId, link.name, ended?.tokens, 'user');
    return ended?.tokens;
  }

  /** The login's token record is gone (expired or deleted in the store): forget the marker and announce the logout. */
  async loginLost({ session, link }: LoginRef): Promise<void> {
    log('token record of %s is gone; clearing the login marker', link.name);
    session.clearMarker(link.name);
    await this.announce.loggedOut(session.sessionId, link.name, undefined, 'record-missing');
  }

  /**
   * OIDC Back-Channel (and Front-Channel) Logout: end this provider's login in every session of its
   * `sid` (or `sub`), in whichever process it lives (the whole session, every login of it, when it
   * has no other login or with `wholeSession`); revoke and announce each ended login (`reason` of
   * the `logout` event). Returns how many logins ended.
   */
  async endSessionsOf(
    req: Request,
    link: ProviderLink,
    linksByName: ReadonlyMap<string, ProviderLink>,
    subject: { sid?: string; sub?: string },
    wholeSession = false,
    reason: 'backchannel' | 'frontchannel' = 'backchannel',
  ): Promise<number> {
    const ended = await this.logins.backchannel.endSessionsOf(req, link.name, subject, wholeSession);
    for (const login of ended) {
      const endedLink = linksByName.get(login.provider);
      if (!endedLink) continue;
      await revokeEnded(endedLink, login.ended, this.announce);
      await this.announce.loggedOut(login.sessionId, login.provider, login.ended.tokens, reason);
    }
    return ended.length;
  }
}

/**
 * Whether a new login continues the grant of the login it replaces: the same subject, and not
 * two different provider sessions (`sid`, when both ID tokens had one). A step-up, an incremental
 * login or a second /login in the same provider session gets the same grant back (oidc-provider:
 * one grant per session and client; Google: one per user and client), and revoking any token of a
 * grant ends all of it (RFC 7009 §2.1 allows it): the new tokens would die with the old. Another
 * user, or the same user's separate provider session, is a separate grant: revoked (SECURITY.md 21.15).
 */
function continuesGrant(previous: ReplacedLogin | undefined, sub: string | undefined, sid: string | undefined): boolean {
  if (!previous || previous.sub === undefined || previous.sub !== sub) return false;
  return previous.sid === undefined || sid === undefined || previous.sid === sid;
}

function sidOf(claims: JWTPayload | undefined): string | undefined {
  return typeof claims?.sid === 'string' ? claims.sid : undefined;
}
