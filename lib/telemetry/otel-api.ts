// The optional peer `@opentelemetry/api`, loaded when a middleware is made, never at import time:
// without it installed the package loads, works and pays nothing (no span, no metric, no lookup
// per request). Both builds reach this through the CommonJS one (scripts/build.mjs: the ESM entry
// re-exports it), so `require` is the loader for both.
import type * as OtelApi from '@opentelemetry/api';

/** The `@opentelemetry/api` module, when installed. */
export type OpenTelemetryApi = typeof OtelApi;

/** How the API module is found: Node's `require` (tests pass one that fails, as when it is not installed). */
export type ModuleLoader = (id: string) => unknown;

/**
 * `@opentelemetry/api` when it can be loaded, else undefined (not installed, or a copy without
 * the `trace` and `metrics` entry points). Node caches a module it loaded, so calling this once
 * per middleware costs nothing more; nothing is kept here (no module-level state).
 */
export function loadOpenTelemetryApi(load: ModuleLoader = require): OpenTelemetryApi | undefined {
  let api: Partial<OpenTelemetryApi> | undefined;
  try {
    api = load('@opentelemetry/api') as Partial<OpenTelemetryApi>;
  } catch {
    return undefined;
  }
  if (typeof api?.trace?.getTracer !== 'function' || typeof api.metrics?.getMeterProvider !== 'function' || typeof api.context?.with !== 'function') return undefined;
  return api as OpenTelemetryApi;
}
