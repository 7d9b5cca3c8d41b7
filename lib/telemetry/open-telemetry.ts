// The OpenTelemetry side of Telemetry (telemetry.ts). It checks per span whether a tracer provider
// is registered, so an installed API without an SDK makes no span and computes no attribute, and it
// looks up its instruments again when the global meter provider changes (an application may
// register its SDK after making the middleware).
import type { Counter, Histogram, Meter, MeterProvider, Span, Tracer, TracerProvider } from '@opentelemetry/api';
import { ATTR, errorType, httpClientAttributes, httpSpanName, oauthErrorCode, tokenRequestAttributes, type Attributes, type AttributeValue } from './attributes.js';
import { loadOpenTelemetryApi, type ModuleLoader, type OpenTelemetryApi } from './otel-api.js';
import { DISABLED_TELEMETRY, INSTRUMENTATION_SCOPE, NOOP_SPAN, type LockOutcome, type ManualSpan, type RefreshOutcome, type SpanScope, type Telemetry, type TokenGrant } from './telemetry.js';

/** Histogram buckets (seconds) for lock waits: from an uncontended in-process lock to a long refresh elsewhere. */
const LOCK_WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Histogram buckets (seconds) for token-endpoint requests: a local provider to one at its timeout. */
const GRANT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface Instruments {
  grants: Counter;
  grantDuration: Histogram;
  logins: Counter;
  logouts: Counter;
  refreshes: Counter;
  refreshFailures: Counter;
  lockWait: Histogram;
}

function instrumentsOf(meter: Meter): Instruments {
  return {
    grants: meter.createCounter('oauth2.grants', { description: 'Grants at the token endpoint, by grant type (error.type when one failed).', unit: '{grant}' }),
    grantDuration: meter.createHistogram('oauth2.grant.duration', {
      description: 'Duration of grants at the token endpoint, by grant type (error.type when one failed).',
      unit: 's',
      advice: { explicitBucketBoundaries: GRANT_BUCKETS },
    }),
    logins: meter.createCounter('oauth2.logins', { description: 'Completed logins (code exchanged, tokens stored).', unit: '{login}' }),
    logouts: meter.createCounter('oauth2.logouts', { description: 'Ended logins, by reason.', unit: '{logout}' }),
    refreshes: meter.createCounter('oauth2.refreshes', { description: 'Token refreshes, by outcome (refreshed here, joined one in flight, reused another worker’s).', unit: '{refresh}' }),
    refreshFailures: meter.createCounter('oauth2.refresh.failures', { description: 'Failed token refreshes, by reason (error.type, oauth2.error).', unit: '{failure}' }),
    lockWait: meter.createHistogram('oauth2.refresh.lock_wait.duration', {
      description: 'Time from asking for the refresh lock to holding it, or to another worker’s result.',
      unit: 's',
      advice: { explicitBucketBoundaries: LOCK_WAIT_BUCKETS },
    }),
  };
}

/** Attributes without the undefined ones (the SDK would warn about each). */
function defined(attributes: Attributes): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined) out[key] = value;
  return out;
}

/** OpenTelemetry through the global tracer and meter providers the application registered. */
class OpenTelemetry implements Telemetry {
  readonly enabled = true;
  readonly #api: OpenTelemetryApi;
  /** The global tracer provider the tracer below came from (re-read when the application replaces it). */
  #tracerProvider: TracerProvider | undefined;
  #tracer: Tracer | undefined;
  /** What the API answers while no SDK is registered. */
  readonly #noopTracerProvider: TracerProvider;
  readonly #noopMeterClass: unknown;
  #meterProvider: MeterProvider | undefined;
  #instruments: Instruments | undefined;

  constructor(api: OpenTelemetryApi) {
    this.#api = api;
    this.#noopTracerProvider = new api.ProxyTracerProvider().getDelegate();
    this.#noopMeterClass = api.createNoopMeter().constructor;
  }

  /** The tracer of the registered tracer provider; undefined while none is registered (no span is made: nothing would record it). */
  #tracing(): Tracer | undefined {
    const provider = this.#api.trace.getTracerProvider();
    if (provider instanceof this.#api.ProxyTracerProvider && provider.getDelegate() === this.#noopTracerProvider) return undefined;
    if (provider !== this.#tracerProvider || !this.#tracer) {
      this.#tracerProvider = provider;
      this.#tracer = provider.getTracer(INSTRUMENTATION_SCOPE);
    }
    return this.#tracer;
  }

  /** The instruments of the meter provider registered now (an app may register its SDK after making the middleware). */
  #metrics(): Instruments | undefined {
    const provider = this.#api.metrics.getMeterProvider();
    if (provider !== this.#meterProvider) {
      this.#meterProvider = provider;
      const meter = provider.getMeter(INSTRUMENTATION_SCOPE);
      this.#instruments = meter.constructor === this.#noopMeterClass ? undefined : instrumentsOf(meter);
    }
    return this.#instruments;
  }

  #start(tracer: Tracer, name: string, attributes: Attributes, kind: 'internal' | 'client'): Span {
    const { SpanKind } = this.#api;
    return tracer.startSpan(name, { kind: kind === 'client' ? SpanKind.CLIENT : SpanKind.INTERNAL, attributes: defined(attributes) });
  }

  #fail(span: Span, err: unknown): void {
    span.setAttribute('error.type', errorType(err));
    const code = oauthErrorCode(err);
    if (code) span.setAttribute(ATTR.oauthError, code);
    span.setStatus({ code: this.#api.SpanStatusCode.ERROR });
  }

  span<T>(name: string, attributes: Attributes, run: (span: SpanScope) => Promise<T>, kind: 'internal' | 'client' = 'internal'): Promise<T> {
    const tracer = this.#tracing();
    if (!tracer) return run(NOOP_SPAN);
    const { context, trace } = this.#api;
    const span = this.#start(tracer, name, attributes, kind);
    const scope: SpanScope = { set: (key, value) => value !== undefined && span.setAttribute(key, value) };
    return context.with(trace.setSpan(context.active(), span), () => {
      let running: Promise<T>;
      try {
        running = run(scope);
      } catch (err) {
        running = Promise.reject(err);
      }
      return running.then(
        (value) => {
          span.end();
          return value;
        },
        (err: unknown) => {
          this.#fail(span, err);
          span.end();
          throw err;
        },
      );
    });
  }

  startSpan(name: string, attributes: Attributes): ManualSpan {
    const tracer = this.#tracing();
    if (!tracer) return NOOP_SPAN;
    const span = this.#start(tracer, name, attributes, 'internal');
    return {
      set: (key, value) => value !== undefined && span.setAttribute(key, value),
      end: (err?: unknown) => {
        if (err !== undefined) this.#fail(span, err);
        span.end();
      },
    };
  }

  tokenRequest<T>(name: string, grant: TokenGrant, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let running: Promise<T>;
    if (this.#tracing()) running = this.span(name, tokenRequestAttributes(grant.provider, grant.tokenUrl, grant.grantType), run, 'client');
    else {
      try {
        running = run();
      } catch (err) {
        running = Promise.reject(err);
      }
    }
    return running.then(
      (value) => {
        this.#countGrant(grant, started, false);
        return value;
      },
      (err: unknown) => {
        this.#countGrant(grant, started, true, err);
        throw err;
      },
    );
  }

  #countGrant({ provider, grantType }: TokenGrant, started: number, failed: boolean, err?: unknown): void {
    const instruments = this.#metrics();
    if (!instruments) return;
    const failure = failed ? { 'error.type': errorType(err), [ATTR.oauthError]: oauthErrorCode(err) } : {};
    const attributes = defined({ [ATTR.provider]: provider, [ATTR.grantType]: grantType, ...failure });
    instruments.grants.add(1, attributes);
    instruments.grantDuration.record((performance.now() - started) / 1000, attributes);
  }

  httpRequest(method: string, url: URL, send: () => Promise<Response>): Promise<Response> {
    if (!this.#tracing()) return send();
    return this.span(
      httpSpanName(method),
      httpClientAttributes(method, url),
      async (span) => {
        const res = await send();
        span.set('http.response.status_code', res.status);
        // Semantic conventions: a 4xx/5xx answer is an error of a client span, typed by its status.
        if (res.status >= 400) span.set('error.type', String(res.status));
        return res;
      },
      'client',
    );
  }

  countLogin(provider: string): void {
    this.#metrics()?.logins.add(1, { [ATTR.provider]: provider });
  }

  countLogout(provider: string, reason: string): void {
    this.#metrics()?.logouts.add(1, { [ATTR.provider]: provider, [ATTR.logoutReason]: reason });
  }

  countRefresh(provider: string, outcome: RefreshOutcome): void {
    this.#metrics()?.refreshes.add(1, { [ATTR.provider]: provider, [ATTR.refreshOutcome]: outcome });
  }

  countRefreshFailure(provider: string, err: unknown): void {
    const instruments = this.#metrics();
    if (!instruments) return;
    const code = oauthErrorCode(err);
    instruments.refreshFailures.add(1, defined({ [ATTR.provider]: provider, 'error.type': errorType(err), [ATTR.oauthError]: code }));
  }

  recordLockWait(provider: string, seconds: number, outcome: LockOutcome): void {
    this.#metrics()?.lockWait.record(seconds, { [ATTR.provider]: provider, [ATTR.lockOutcome]: outcome });
  }
}

/**
 * The telemetry of one middleware instance: OpenTelemetry when enabled (the resolved `telemetry`
 * option) and the API loads, else the no-op one.
 */
export function createTelemetry(enabled: boolean, load?: ModuleLoader): Telemetry {
  const api = enabled ? loadOpenTelemetryApi(load) : undefined;
  return api ? new OpenTelemetry(api) : DISABLED_TELEMETRY;
}
