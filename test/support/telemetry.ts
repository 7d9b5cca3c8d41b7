// The OpenTelemetry SDK (trace and metrics) with in-memory exporters, registered as the global
// providers for one test: what an application does with its own exporters. The context manager is
// AsyncLocalStorage-based (the one @opentelemetry/context-async-hooks ships, which is not a
// dependency here) so that spans made in awaited calls get their parents.
import { AsyncLocalStorage } from 'node:async_hooks';
import { context, metrics, ROOT_CONTEXT, trace, type Attributes, type Context, type ContextManager } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type DataPoint, type MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

class AsyncLocalContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.#storage.run(ctx, () => fn.apply(thisArg, args));
  }

  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const fn = target as unknown as (...args: unknown[]) => unknown;
    return ((...args: unknown[]) => this.with(ctx, () => fn(...args))) as unknown as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.#storage.disable();
    return this;
  }
}

export interface InstalledTelemetry {
  /** Every finished span so far. */
  spans(): ReadableSpan[];
  /** The finished spans named `name`. */
  spansNamed(name: string): ReadableSpan[];
  /** The span with this span's parent id (undefined for a root span). */
  parentOf(span: ReadableSpan): ReadableSpan | undefined;
  /** The data points of metric `name` now (cumulative), empty when it has none. */
  points(name: string): Promise<Array<DataPoint<unknown>>>;
  /** Every metric now. */
  metrics(): Promise<MetricData[]>;
  uninstall(): Promise<void>;
}

/** Registers the global tracer and meter providers with in-memory exporters; `uninstall()` removes them. */
export function installTelemetry(): InstalledTelemetry {
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // Exports only when flushed (the interval is never reached in a test).
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  context.setGlobalContextManager(new AsyncLocalContextManager());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);

  const all = async (): Promise<MetricData[]> => {
    await reader.forceFlush();
    const exported = metricExporter.getMetrics();
    const last = exported[exported.length - 1];
    return last ? last.scopeMetrics.flatMap((s) => s.metrics) : [];
  };
  return {
    spans: () => spanExporter.getFinishedSpans(),
    spansNamed: (name) => spanExporter.getFinishedSpans().filter((s) => s.name === name),
    parentOf: (span) => spanExporter.getFinishedSpans().find((s) => s.spanContext().spanId === span.parentSpanContext?.spanId),
    metrics: all,
    async points(name) {
      return ((await all()).find((m) => m.descriptor.name === name)?.dataPoints ?? []) as Array<DataPoint<unknown>>;
    },
    async uninstall() {
      trace.disable();
      metrics.disable();
      context.disable();
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/** A data point's attributes and value, for `toEqual` over a metric's points. */
export function pointsOf(points: Array<DataPoint<unknown>>): Array<{ attributes: Attributes; value: unknown }> {
  return points.map((p) => ({ attributes: p.attributes, value: p.value }));
}
