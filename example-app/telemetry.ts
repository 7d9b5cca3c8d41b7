// `OTEL_CONSOLE=1 npm start`: print the package's OpenTelemetry spans to the console. This is all an
// application does to enable them: register the SDK's tracer provider (here with a console
// exporter; in production, an OTLP exporter through @opentelemetry/sdk-node). The middleware finds
// it; there is nothing to configure (docs/observability.md).
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, ConsoleSpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

export function printSpansToConsole(): void {
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] }));
}
