import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { FetchLike } from '../config/options.js';
import { OAUTH_CODES, OAuthError } from '../errors.js';
import { BODY_LIMITS, readBoundedJson } from './bounded-body.js';

/**
 * Key rotation (OIDC Core §10.1.1): a token signed with a `kid` the cached set lacks makes the set
 * be fetched again at once. The same unknown `kid` refetches at most once per this long, and any
 * unknown `kid` at most once per {@link NEW_KID_MIN_INTERVAL_MS}, so tokens with made-up `kid`s
 * (unauthenticated: back-channel logout) cannot make more than one outbound fetch a second.
 */
export const SAME_KID_COOLDOWN_MS = 30_000;
export const NEW_KID_MIN_INTERVAL_MS = 1000;
/** Unknown `kid`s remembered per key set (their cooldowns). */
const MAX_TRIED_KIDS = 100;
/** First wait after a failed key-set fetch; doubled after each further failure, up to the maximum (as discovery). */
export const JWKS_RETRY_MIN_MS = 1000;
export const JWKS_RETRY_MAX_MS = 60_000;

interface CachedKeySet {
  keys: JWTVerifyGetKey | undefined;
  fetchedAt: number;
  pending: Promise<JWTVerifyGetKey> | undefined;
  /** The last fetch failed: answered with `failure` until `retryAt` (epoch ms), no new fetch. */
  failure: { error: unknown; retryAt: number } | undefined;
  /** The wait after the next failure. */
  nextBackoffMs: number;
  /** Unknown `kid`s (`''`: none) that made a refetch, and when. */
  triedKids: Map<string, number>;
}

/** Whether a token with the unknown `kid` may make the set be fetched again now (and note that it does). */
function mayRefetchFor(entry: CachedKeySet, kid: string, now: number): boolean {
  const tried = entry.triedKids.get(kid);
  if (tried !== undefined && now - tried < SAME_KID_COOLDOWN_MS) return false;
  if (entry.pending === undefined && now - entry.fetchedAt < NEW_KID_MIN_INTERVAL_MS) return false;
  if (entry.triedKids.size >= MAX_TRIED_KIDS) {
    for (const [k, at] of entry.triedKids) if (now - at >= SAME_KID_COOLDOWN_MS) entry.triedKids.delete(k);
    if (entry.triedKids.size >= MAX_TRIED_KIDS) entry.triedKids.delete(entry.triedKids.keys().next().value!);
  }
  entry.triedKids.set(kid, now);
  return true;
}

async function fetchKeySet(uri: string, fetchFn: FetchLike, timeoutMs: number): Promise<JWTVerifyGetKey> {
  let doc: JSONWebKeySet;
  try {
    const res = await fetchFn(uri, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    doc = (await readBoundedJson(res, BODY_LIMITS.jwks, 'JWKS')) as JSONWebKeySet;
    return createLocalJWKSet(doc);
  } catch (err) {
    throw new OAuthError(OAUTH_CODES.ID_TOKEN_INVALID, "The provider's signing keys (JWKS) could not be fetched.", { status: 502, cause: err });
  }
}

/**
 * A provider's signing keys, fetched through its owner's `fetch` and cached per URI by the owner
 * (one per provider link: two middleware instances never share keys). A token whose `kid` is not in
 * the cached set makes it be fetched again at once (key rotation; see {@link SAME_KID_COOLDOWN_MS});
 * concurrent verifications share one fetch. A failed fetch is answered from the cache for 1 s, doubling up to 60 s while it
 * keeps failing, reset by a success (as discovery): unauthenticated requests that carry a token
 * (back-channel logout) cannot make one outbound fetch each during a JWKS outage.
 */
export class RemoteKeySets {
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number;
  readonly #sets = new Map<string, CachedKeySet>();

  constructor(options: { fetch: FetchLike; timeoutMs: number }) {
    this.#fetch = options.fetch;
    this.#timeoutMs = options.timeoutMs;
  }

  /** The key lookup of `uri` for jose's `jwtVerify`. */
  keysOf(uri: string): JWTVerifyGetKey {
    return async (header, token) => {
      let entry = this.#sets.get(uri);
      if (!entry) this.#sets.set(uri, (entry = { keys: undefined, fetchedAt: 0, pending: undefined, failure: undefined, nextBackoffMs: JWKS_RETRY_MIN_MS, triedKids: new Map() }));
      const load = (): Promise<JWTVerifyGetKey> => {
        const current = entry!;
        if (current.failure && Date.now() < current.failure.retryAt) return Promise.reject(current.failure.error);
        current.pending ??= fetchKeySet(uri, this.#fetch, this.#timeoutMs)
          .then(
            (keys) => {
              current.keys = keys;
              current.fetchedAt = Date.now();
              current.failure = undefined;
              current.nextBackoffMs = JWKS_RETRY_MIN_MS;
              return keys;
            },
            (error: unknown) => {
              current.failure = { error, retryAt: Date.now() + current.nextBackoffMs };
              current.nextBackoffMs = Math.min(current.nextBackoffMs * 2, JWKS_RETRY_MAX_MS);
              throw error;
            },
          )
          .finally(() => (current.pending = undefined));
        return current.pending;
      };
      const keys = entry.keys ?? (await load());
      try {
        return await keys(header, token);
      } catch (err) {
        if ((err as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY' || !mayRefetchFor(entry, header.kid ?? '', Date.now())) throw err;
        return (await load())(header, token);
      }
    };
  }
}

/**
 * The JWS algorithms a provider-signed JWT may use: asymmetric ones only, whatever the header
 * says. Never `none`, never an HMAC (HS*): a provider's key set holds public keys, and an HMAC
 * "verified" with one would let anyone who has it sign.
 */
export const ASYMMETRIC_JWS_ALGS: readonly string[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/**
 * The algorithms a logout token may use (OIDC Back-Channel Logout 1.0 §2.4: signed with the keys,
 * and so the algorithms, of the provider's ID tokens): those of discovery's
 * `id_token_signing_alg_values_supported` that are asymmetric; all asymmetric ones when the
 * provider was not discovered or lists none of them (as before: no new required setting).
 */
export function logoutTokenAlgs(idTokenSigningAlgs: readonly string[] | undefined): readonly string[] {
  const listed = (idTokenSigningAlgs ?? []).filter((alg) => ASYMMETRIC_JWS_ALGS.includes(alg));
  return listed.length > 0 ? listed : ASYMMETRIC_JWS_ALGS;
}

/** What a provider-signed JWT (ID token, logout token) is verified against. */
export interface ProviderJwtCheck {
  issuer: string;
  audience: string;
  jwksUri: string;
  /** Where the keys come from: the provider link's cache. */
  keys: RemoteKeySets;
  requiredClaims: string[];
  clockToleranceSeconds: number;
  currentDate?: Date;
  /** Accepted `alg` values; default {@link ASYMMETRIC_JWS_ALGS}. */
  algorithms?: readonly string[];
}

/** A provider-signed JWT that failed jose's checks; `detail` is e.g. `ERR_JWT_CLAIM_VALIDATION_FAILED: aud`. */
export class ProviderJwtError extends Error {
  constructor(
    readonly detail: string,
    cause: unknown,
  ) {
    super(detail, { cause });
  }
}

/** jose's `jwtVerify` against the provider's keys (the caller's key cache): signature, `iss`, `aud`, required claims, `exp`/`nbf`. */
export async function verifyProviderJwt(token: string, check: ProviderJwtCheck): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, check.keys.keysOf(check.jwksUri), {
      issuer: check.issuer,
      audience: check.audience,
      requiredClaims: check.requiredClaims,
      clockTolerance: check.clockToleranceSeconds,
      currentDate: check.currentDate,
      algorithms: [...(check.algorithms ?? ASYMMETRIC_JWS_ALGS)],
    });
    return payload;
  } catch (err) {
    const e = err as { code?: string; claim?: string };
    throw new ProviderJwtError(e.claim ? `${e.code ?? 'invalid'}: ${e.claim}` : (e.code ?? 'invalid'), err);
  }
}
