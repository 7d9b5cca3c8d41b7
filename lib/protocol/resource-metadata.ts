// RFC 9728 OAuth 2.0 Protected Resource Metadata: read when an API's challenge names it
// (`resource_metadata`, §5.1), and the two checks that decide whether the API may receive the
// user's token: its `resource` is the API's, and its `authorization_servers` include the issuer
// of the provider that issued the token (§7.3: otherwise a resource could claim another's
// identity, or send the client to an authorization server of its choosing).
import type { FetchLike } from '../config/options.js';
import { OAUTH_CODES, OAuthError } from '../errors.js';
import { BODY_LIMITS, readBoundedJson } from './bounded-body.js';

/** The fields of RFC 9728 §2 the package reads. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorizationServers: readonly string[];
  scopesSupported?: readonly string[];
}

/** How long a document (or a failure to read one) is kept. */
export const RESOURCE_METADATA_TTL_MS = 10 * 60_000;
const FAILURE_TTL_MS = 30_000;
const MAX_ENTRIES = 64;

function metadataError(message: string, cause?: unknown): OAuthError {
  return new OAuthError(OAUTH_CODES.RESOURCE_METADATA, message, { status: 502, cause });
}

function stringList(value: unknown): readonly string[] | undefined {
  return Array.isArray(value) && value.length <= 64 && value.every((v) => typeof v === 'string' && v.length <= 2048) ? Object.freeze([...(value as string[])]) : undefined;
}

/** Fetch and validate one metadata document (bounded body, `httpTimeoutMs`, no redirects). */
export async function fetchResourceMetadata(fetchFn: FetchLike, url: URL, timeoutMs: number): Promise<ProtectedResourceMetadata> {
  let doc: unknown;
  try {
    const res = await fetchFn(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      throw new Error(`HTTP ${res.status}`);
    }
    doc = await readBoundedJson(res, BODY_LIMITS.resourceMetadata, 'protected resource metadata');
  } catch (err) {
    if (err instanceof OAuthError) throw err;
    throw metadataError(`The protected resource metadata at ${url.origin}${url.pathname} could not be read.`, err);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw metadataError(`The protected resource metadata at ${url.origin}${url.pathname} is not a JSON object.`);
  const { resource, authorization_servers: servers, scopes_supported: scopes } = doc as Record<string, unknown>;
  if (typeof resource !== 'string' || resource.length === 0 || resource.length > 2048) {
    throw metadataError(`The protected resource metadata at ${url.origin}${url.pathname} has no \`resource\`.`);
  }
  const authorizationServers = servers === undefined ? [] : stringList(servers);
  if (!authorizationServers) throw metadataError(`The protected resource metadata at ${url.origin}${url.pathname} has a malformed \`authorization_servers\`.`);
  const out: ProtectedResourceMetadata = { resource, authorizationServers };
  const scopesSupported = stringList(scopes);
  if (scopesSupported) out.scopesSupported = scopesSupported;
  return Object.freeze(out);
}

/** What the API is expected to be: its configured `resource`, else the URL the token was sent to. */
export interface ExpectedResource {
  /** `apis.<name>.resource` (RFC 8707), when configured: the metadata's `resource` must equal it. */
  resource?: string;
  /** The request URL: without a configured resource, the metadata's `resource` must be its origin or a path prefix of it. */
  requestUrl: URL;
  /** The issuer of the provider whose token the API receives. */
  issuer: string | undefined;
}

function isPathPrefix(resource: string, url: URL): boolean {
  let parsed: URL;
  try {
    parsed = new URL(resource);
  } catch {
    return false;
  }
  if (parsed.origin !== url.origin || parsed.search || parsed.hash) return false;
  const base = parsed.pathname.replace(/\/$/, '');
  return url.pathname === base || url.pathname.startsWith(`${base}/`) || base === '';
}

/** Why the metadata does not allow sending the token, or undefined when it does (RFC 9728 §3.3, §7.3). */
export function resourceMetadataMismatch(metadata: ProtectedResourceMetadata, expected: ExpectedResource): string | undefined {
  if (expected.resource !== undefined ? metadata.resource !== expected.resource : !isPathPrefix(metadata.resource, expected.requestUrl)) {
    return `names the resource ${JSON.stringify(metadata.resource.slice(0, 200))}, not ${expected.resource !== undefined ? JSON.stringify(expected.resource) : `one of ${expected.requestUrl.origin}`}`;
  }
  if (expected.issuer === undefined) return 'cannot be checked: the provider has no known issuer';
  if (!metadata.authorizationServers.includes(expected.issuer)) return `does not list the provider's issuer ${expected.issuer} in authorization_servers`;
  return undefined;
}

/** The mismatch as an error: 502 `OAUTH_RESOURCE_METADATA_MISMATCH` (the token is not sent to that API again). */
export function resourceMetadataMismatchError(url: URL, why: string): OAuthError {
  return new OAuthError(OAUTH_CODES.RESOURCE_METADATA_MISMATCH, `The protected resource metadata at ${url.origin}${url.pathname} ${why}; the access token is not sent to that API.`, { status: 502 });
}

interface Entry {
  at: number;
  ttl: number;
  value: Promise<ProtectedResourceMetadata>;
}

/**
 * Metadata documents of one middleware instance, by URL: one fetch at a time per URL (callers
 * share it), kept {@link RESOURCE_METADATA_TTL_MS}; a failure is kept 30 s (a challenge storm
 * against a broken document makes one request per 30 s). At most 64 URLs, oldest dropped first.
 */
export class ResourceMetadataCache {
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(options: { fetch: FetchLike; timeoutMs: number; now?: () => number }) {
    this.#fetch = options.fetch;
    this.#timeoutMs = options.timeoutMs;
    this.#now = options.now ?? Date.now;
  }

  get(url: URL): Promise<ProtectedResourceMetadata> {
    const key = url.href;
    const now = this.#now();
    const hit = this.#entries.get(key);
    if (hit && now - hit.at < hit.ttl) return hit.value;
    this.#entries.delete(key);
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value as string);
    const entry: Entry = { at: now, ttl: RESOURCE_METADATA_TTL_MS, value: fetchResourceMetadata(this.#fetch, url, this.#timeoutMs) };
    entry.value.catch(() => {
      entry.at = this.#now();
      entry.ttl = FAILURE_TTL_MS;
    });
    this.#entries.set(key, entry);
    return entry.value;
  }
}
