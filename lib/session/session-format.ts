/**
 * What `req.session.oauth` holds (pending logins, login markers, abandoned logins; never tokens),
 * as the rest of the package sees it and as the session store holds it. Only lib/session/ knows
 * the stored shape. Sessions are written by every request, so it stays compact: one-letter keys.
 *
 * Every format ever written is read. There has been one format, grown only by optional fields
 * (the transaction's `m` and `u`, the marker's `acr`, `authTime`, `u` and `sid`, the abandoned
 * logins `x`), so a session written by any earlier version decodes here. Writing uses the same
 * keys in the same order as before, so what is stored is byte for byte what it was.
 */

/** What a login started by `requireAuth` asked the provider for (kept so it is never asked again in a loop). */
export interface StepUpRequest {
  /** The scope requested (space-separated) when it was not the configured one. */
  scope?: string;
  /** `acr_values` requested (space-separated). */
  acrValues?: string;
  /** `max_age` requested, seconds. */
  maxAge?: number;
}

/** One login in progress, keyed by its `state` (several tabs may log in at once). */
export interface PendingLogin {
  provider: string;
  /** PKCE `code_verifier`. */
  codeVerifier?: string;
  /** OIDC `nonce`. */
  nonce?: string;
  /** Validated same-origin path to return to. */
  returnTo: string;
  /** Epoch ms. */
  createdAt: number;
  /** `max_age` sent, seconds: the ID token's `auth_time` is checked against it. */
  maxAge?: number;
  /** What a step-up or incremental login asked for (requireAuth); absent for ordinary logins. */
  stepUp?: StepUpRequest;
  /** `responseMode: 'form_post'`: the random value of this login's binding cookie (http/form-post-binding.ts). */
  formPostBinding?: string;
}

/** One provider's login in this session: the session never holds tokens, only this. */
export interface LoginMarker {
  /** Login time, epoch ms. */
  authenticatedAt: number;
  /** Subject, when known (ID token or configured userinfo). */
  sub?: string;
  /** Verified ID-token claims, when known. */
  claims?: Record<string, unknown>;
  /** The ID token's `acr`, when it had one. */
  acr?: string;
  /** The ID token's `auth_time` (epoch seconds), when it had one. */
  authTime?: number;
  /** The step-up request this login answered (from its pending login). */
  stepUp?: StepUpRequest;
  /** Expiry of the token record in the store (epoch ms), to extend it when the session rolls. */
  recordExpiresAt?: number;
  /** The provider's session id (ID token `sid`), kept only with `backchannelLogout`. */
  sid?: string;
}

/** Who logged in: the two marker fields `req.oauth.user` reads, named alike in both shapes. */
export type LoginIdentity = Readonly<Pick<LoginMarker, 'sub' | 'claims'>>;

/** A login pending when another one completed (a second tab): only where to send that tab. */
export interface AbandonedLogin {
  provider: string;
  returnTo: string;
  createdAt: number;
}

/** Stored {@link StepUpRequest}. */
export interface StoredStepUp {
  s?: string;
  a?: string;
  m?: number;
}

/** Stored {@link PendingLogin}. */
export interface StoredTransaction {
  p: string;
  v?: string;
  n?: string;
  r: string;
  t: number;
  m?: number;
  u?: StoredStepUp;
  b?: string;
}

/** Stored {@link LoginMarker}: `at` is `authenticatedAt`, `exp` is `recordExpiresAt`, `u` is `stepUp`. */
export interface StoredMarker {
  at: number;
  sub?: string;
  claims?: Record<string, unknown>;
  acr?: string;
  authTime?: number;
  u?: StoredStepUp;
  exp?: number;
  sid?: string;
}

/** Stored {@link AbandonedLogin}. */
export interface StoredAbandonedLogin {
  p: string;
  r: string;
  t: number;
}

/** The stored `req.session.oauth`. */
export interface StoredOAuthData {
  /** Pending logins by `state`. */
  tx?: Record<string, StoredTransaction>;
  /** Login markers by provider name. */
  p?: Record<string, StoredMarker>;
  /** Abandoned logins by a hash of their state (they cannot complete: no verifier). */
  x?: Record<string, StoredAbandonedLogin>;
}

const str = (x: unknown): x is string => typeof x === 'string';
const num = (x: unknown): x is number => typeof x === 'number';
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;
/** Absent, or of the right type. */
const optional = (x: unknown, is: (x: unknown) => boolean): boolean => x === undefined || is(x);

export function encodeStepUp(stepUp: StepUpRequest): StoredStepUp {
  const u: StoredStepUp = {};
  if (stepUp.scope !== undefined) u.s = stepUp.scope;
  if (stepUp.acrValues !== undefined) u.a = stepUp.acrValues;
  if (stepUp.maxAge !== undefined) u.m = stepUp.maxAge;
  return u;
}

/** The fields of the right type (a malformed one reads as not asked). */
export function decodeStepUp(u: unknown): StepUpRequest | undefined {
  if (!isObject(u)) return undefined;
  const stepUp: StepUpRequest = {};
  if (str(u.s)) stepUp.scope = u.s;
  if (str(u.a)) stepUp.acrValues = u.a;
  if (num(u.m)) stepUp.maxAge = u.m;
  return stepUp;
}

export function encodePendingLogin(login: PendingLogin): StoredTransaction {
  // The key order (and an absent verifier or nonce as an undefined key) of every earlier version.
  const tx: StoredTransaction = { p: login.provider, v: login.codeVerifier, n: login.nonce, r: login.returnTo, t: login.createdAt };
  if (login.maxAge !== undefined) tx.m = login.maxAge;
  if (login.stepUp) tx.u = encodeStepUp(login.stepUp);
  if (login.formPostBinding !== undefined) tx.b = login.formPostBinding;
  return tx;
}

/** The pending login, or undefined when malformed in any field (fail closed: it cannot complete). */
export function decodePendingLogin(tx: unknown): PendingLogin | undefined {
  if (!isObject(tx) || !num(tx.t) || !str(tx.p) || !str(tx.r)) return undefined;
  if (!optional(tx.v, str) || !optional(tx.n, str) || !optional(tx.m, num) || !optional(tx.u, isObject) || !optional(tx.b, str)) return undefined;
  const login: PendingLogin = { provider: tx.p, returnTo: tx.r, createdAt: tx.t };
  if (tx.v !== undefined) login.codeVerifier = tx.v as string;
  if (tx.n !== undefined) login.nonce = tx.n as string;
  if (tx.m !== undefined) login.maxAge = tx.m as number;
  const stepUp = decodeStepUp(tx.u);
  if (stepUp) login.stepUp = stepUp;
  if (tx.b !== undefined) login.formPostBinding = tx.b as string;
  return login;
}

/** A stored value that counts as a login marker (anything else reads as logged out). No allocation. */
export function isStoredMarker(marker: unknown): marker is StoredMarker {
  return isObject(marker) && num(marker.at);
}

export function encodeLoginMarker(marker: LoginMarker): StoredMarker {
  const m: StoredMarker = { at: marker.authenticatedAt };
  if (marker.sub !== undefined) m.sub = marker.sub;
  if (marker.claims !== undefined) m.claims = marker.claims;
  if (marker.acr !== undefined) m.acr = marker.acr;
  if (marker.authTime !== undefined) m.authTime = marker.authTime;
  if (marker.stepUp) m.u = encodeStepUp(marker.stepUp);
  if (marker.recordExpiresAt !== undefined) m.exp = marker.recordExpiresAt;
  if (marker.sid !== undefined) m.sid = marker.sid;
  return m;
}

/**
 * The marker, or undefined when there is none or it has no login time. A malformed optional field
 * reads as absent: a missing `acr`/`authTime` fails step-up checks, it never passes them.
 */
export function decodeLoginMarker(stored: unknown): LoginMarker | undefined {
  if (!isStoredMarker(stored)) return undefined;
  const marker: LoginMarker = { authenticatedAt: stored.at };
  if (str(stored.sub)) marker.sub = stored.sub;
  if (isObject(stored.claims)) marker.claims = stored.claims;
  if (str(stored.acr)) marker.acr = stored.acr;
  if (num(stored.authTime)) marker.authTime = stored.authTime;
  const stepUp = decodeStepUp(stored.u);
  if (stepUp) marker.stepUp = stepUp;
  if (num(stored.exp)) marker.recordExpiresAt = stored.exp;
  if (str(stored.sid)) marker.sid = stored.sid;
  return marker;
}

export function encodeAbandonedLogin(login: AbandonedLogin): StoredAbandonedLogin {
  return { p: login.provider, r: login.returnTo, t: login.createdAt };
}

export function decodeAbandonedLogin(stored: unknown): AbandonedLogin | undefined {
  if (!isObject(stored) || !str(stored.p) || !str(stored.r) || !num(stored.t)) return undefined;
  return { provider: stored.p, returnTo: stored.r, createdAt: stored.t };
}
