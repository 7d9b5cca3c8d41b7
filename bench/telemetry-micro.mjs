// In-process part of bench group 7: ns per outbound request spent in the telemetry wrapper of the
// built package (dist/), `telemetry: false` against the default, for a `send` that answers at once.
// `node [--require test/support/hide-otel-api.cjs] bench/telemetry-micro.mjs [sdk]` prints JSON.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const { createTelemetry } = require('./dist/cjs/telemetry/open-telemetry.js');
const { loadOpenTelemetryApi } = require('./dist/cjs/telemetry/otel-api.js');

if (process.argv[2] === 'sdk') {
  const { trace, metrics } = require('@opentelemetry/api');
  const { BasicTracerProvider, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
  const { MeterProvider } = require('@opentelemetry/sdk-metrics');
  const dropped = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(dropped)] }));
  metrics.setGlobalMeterProvider(new MeterProvider());
}

const url = new URL('http://127.0.0.1:4000/data?page=2');
const response = new Response(null, { status: 204 });
const send = () => Promise.resolve(response);

async function nsPerCall(telemetry, calls) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i += 1) await telemetry.httpRequest('GET', url, send);
  return Number(process.hrtime.bigint() - start) / calls;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
};

/** Both wrappers, interleaved (off, default, off, …: drift hits both): median of 7 runs of 200,000 awaited calls each, after a warm-up. */
async function measure(off, on) {
  await nsPerCall(off, 100_000);
  await nsPerCall(on, 100_000);
  const runs = { off: [], on: [] };
  for (let i = 0; i < 7; i += 1) {
    runs.off.push(await nsPerCall(off, 200_000));
    runs.on.push(await nsPerCall(on, 200_000));
  }
  return { offNs: median(runs.off), defaultNs: median(runs.on) };
}

const on = createTelemetry(true);
console.log(JSON.stringify({ apiLoaded: loadOpenTelemetryApi() !== undefined, enabled: on.enabled, ...(await measure(createTelemetry(false), on)) }));
