// Spans and metrics of one middleware instance (docs/observability.md lists them), behind one
// interface: DISABLED_TELEMETRY (no API installed, or `telemetry: false`) only calls through;
// open-telemetry.ts reports to the tracer and meter providers the application registered. This
// file has no OpenTelemetry import, so the published types never need the optional peer.
import type { Attributes, AttributeValue } from './attributes.js';

/** Instrumentation scope name of every tracer and meter of the package. */
export const INSTRUMENTATION_SCOPE = 'express-oauth2-session';

/** A span a callback runs in: more attributes once known (an outcome, a status code). */
export interface SpanScope {
  set(key: string, value: AttributeValue | undefined): void;
}

/** A span that is not made the active one (the refresh lock wait): the caller ends it. */
export interface ManualSpan extends SpanScope {
  /** Ends the span; with `err`, as failed (status ERROR, `error.type`). */
  end(err?: unknown): void;
}

/** A grant at the token endpoint: which client (no provider for a backend client), where, which grant. */
export interface TokenGrant {
  provider: string | undefined;
  tokenUrl: string;
  grantType: string;
}

export type RefreshOutcome = 'refreshed' | 'joined' | 'reused';
export type LockOutcome = 'acquired' | 'reused' | 'timeout' | 'error';

/** What the package reports; see docs/observability.md for every name and attribute. */
export interface Telemetry {
  readonly enabled: boolean;
  /** Runs `run` in a new span, active for what it calls (child spans); ends it when the promise settles, failed when it rejects. */
  span<T>(name: string, attributes: Attributes, run: (span: SpanScope) => Promise<T>, kind?: 'internal' | 'client'): Promise<T>;
  /** A span child of the active one, not made active; ended by the caller. */
  startSpan(name: string, attributes: Attributes): ManualSpan;
  /**
   * One grant at the token endpoint (code exchange, refresh, per-API, token exchange, backend
   * clients): a CLIENT span `name` with the token URL's HTTP attributes and `oauth2.grant_type`,
   * and one count of `oauth2.grants` by grant type (with `error.type` when it failed).
   */
  tokenRequest<T>(name: string, grant: TokenGrant, run: () => Promise<T>): Promise<T>;
  /** One outbound HTTP request as a CLIENT span (semantic conventions, `url.full` redacted). */
  httpRequest(method: string, url: URL, send: () => Promise<Response>): Promise<Response>;
  countLogin(provider: string): void;
  countLogout(provider: string, reason: string): void;
  countRefresh(provider: string, outcome: RefreshOutcome): void;
  countRefreshFailure(provider: string, err: unknown): void;
  recordLockWait(provider: string, seconds: number, outcome: LockOutcome): void;
}

/** The span of a disabled or not recording telemetry: ignores everything. */
export const NOOP_SPAN: ManualSpan = Object.freeze({ set() {}, end() {} });

/** No API, or `telemetry: false`: every call goes straight through. */
export const DISABLED_TELEMETRY: Telemetry = Object.freeze({
  enabled: false,
  span: <T>(_name: string, _attributes: Attributes, run: (span: SpanScope) => Promise<T>) => run(NOOP_SPAN),
  startSpan: () => NOOP_SPAN,
  tokenRequest: <T>(_name: string, _grant: TokenGrant, run: () => Promise<T>) => run(),
  httpRequest: (_method: string, _url: URL, send: () => Promise<Response>) => send(),
  countLogin() {},
  countLogout() {},
  countRefresh() {},
  countRefreshFailure() {},
  recordLockWait() {},
});
