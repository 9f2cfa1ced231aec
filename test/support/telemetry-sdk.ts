import { context, metrics, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { MeterProvider, MetricReader, type DataPoint, type Histogram, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider as TracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";

/** A metric reader the test pulls from (no timer). */
class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** One exported histogram metric, flattened for assertions. */
export interface HistogramMetric {
  readonly name: string;
  readonly unit: string;
  readonly points: readonly DataPoint<Histogram>[];
}

/** The real OpenTelemetry SDK, registered globally: in-memory spans, pulled metrics, W3C trace context + baggage, AsyncLocalStorage context. */
export interface TestSdk {
  readonly exporter: InMemorySpanExporter;
  readonly tracerProvider: TracerProvider;
  readonly meterProvider: MeterProvider;
  spans(): ReadableSpan[];
  /** Histograms collected so far (cumulative), by name. */
  histograms(): Promise<Map<string, HistogramMetric>>;
  shutdown(): Promise<void>;
}

export function installTestSdk(): TestSdk {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new PullReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  return {
    exporter,
    tracerProvider,
    meterProvider,
    spans: () => exporter.getFinishedSpans(),
    async histograms() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw errors[0];
      return flatten(resourceMetrics);
    },
    async shutdown() {
      trace.disable();
      metrics.disable();
      propagation.disable();
      context.disable();
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

function flatten(rm: ResourceMetrics): Map<string, HistogramMetric> {
  const out = new Map<string, HistogramMetric>();
  for (const scope of rm.scopeMetrics) {
    for (const m of scope.metrics) {
      out.set(m.descriptor.name, { name: m.descriptor.name, unit: m.descriptor.unit, points: m.dataPoints as DataPoint<Histogram>[] });
    }
  }
  return out;
}

/** Wait until `n` spans have ended (server spans end after the client saw the status). */
export async function waitForSpans(sdk: TestSdk, n: number, timeoutMs = 5000): Promise<ReadableSpan[]> {
  const until = Date.now() + timeoutMs;
  while (sdk.spans().length < n) {
    if (Date.now() > until) throw new Error(`expected ${n} spans, got ${sdk.spans().length}: ${sdk.spans().map((s) => s.name).join(", ")}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return sdk.spans();
}
