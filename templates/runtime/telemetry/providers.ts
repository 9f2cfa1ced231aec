import type { Histogram, Meter, MeterProvider, ProxyTracerProvider as ProxyTracerProviderType, Tracer, TracerProvider } from "@opentelemetry/api";
import { otel } from "./otel-api.js";
import { emitsOld, emitsStable, metricNames, secondsBuckets, type SemconvMode } from "./semconv.js";
import type { TelemetryOptions } from "./options.js";

const { ProxyTracerProvider, ValueType, createNoopMeter, metrics, propagation, trace } = otel;

/** The instrumentation scope name of every tracer and meter this module creates. */
export const scopeName = "protoc-gen-grpckit";

/** The histograms of one side (client or server) in one semconv mode; absent ones are not emitted. */
export interface RpcInstruments {
  /** Old: `rpc.{client,server}.duration`, milliseconds. */
  readonly durationMs?: Histogram;
  /** Stable: `rpc.{client,server}.call.duration`, seconds. */
  readonly durationS?: Histogram;
  /** Old, with `sizeMetrics` only: `rpc.*.request.size`, bytes, one point per request message. */
  readonly requestSize?: Histogram;
  /** Old, with `sizeMetrics` only: `rpc.*.response.size`, bytes, one point per response message. */
  readonly responseSize?: Histogram;
  /** Old: `rpc.*.requests_per_rpc`, one point per streaming call. */
  readonly requestsPerRpc?: Histogram;
  /** Old: `rpc.*.responses_per_rpc`, one point per streaming call. */
  readonly responsesPerRpc?: Histogram;
}

/**
 * What one call may use; `undefined` members are no-ops (nothing
 * registered). Both undefined: only a propagator is registered (context is
 * passed through, nothing recorded).
 */
export interface ActiveTelemetry {
  readonly tracer: Tracer | undefined;
  readonly instruments: RpcInstruments | undefined;
}

const propagateOnly: ActiveTelemetry = Object.freeze({ tracer: undefined, instruments: undefined });

/** The no-op tracer provider of this copy of @opentelemetry/api (what the global proxy delegates to when no SDK is set). */
const noopTracerProvider = new ProxyTracerProvider().getDelegate();

function isNoopTracerProvider(provider: TracerProvider): boolean {
  const delegate = provider instanceof ProxyTracerProvider || typeof (provider as ProxyTracerProviderType).getDelegate === "function"
    ? (provider as ProxyTracerProviderType).getDelegate()
    : provider;
  return delegate === noopTracerProvider || delegate.constructor?.name === "NoopTracerProvider";
}

/**
 * Resolves, per call, the tracer and meter to use. Global providers are
 * looked up on every call (an SDK may be registered after a client or server
 * was created); tracers, meters and instruments are created once per
 * provider, and `resolve()` allocates nothing.
 */
export class TelemetrySource {
  private tracerProvider: TracerProvider | undefined;
  private tracer: Tracer | undefined;
  private meterProvider: MeterProvider | undefined;
  private instruments: RpcInstruments | undefined;
  private active: ActiveTelemetry = propagateOnly;

  constructor(
    private readonly side: "client" | "server",
    private readonly mode: SemconvMode,
    private readonly options: TelemetryOptions,
  ) {}

  /**
   * The tracer and instruments to use for a call starting now; undefined
   * when nothing (no SDK, no propagator) is registered.
   */
  resolve(): ActiveTelemetry | undefined {
    const tracer = this.resolveTracer();
    const instruments = this.resolveInstruments();
    if (tracer === undefined && instruments === undefined) return propagation.fields().length > 0 ? propagateOnly : undefined;
    if (this.active.tracer !== tracer || this.active.instruments !== instruments) this.active = { tracer, instruments };
    return this.active;
  }

  private resolveTracer(): Tracer | undefined {
    const provider = this.options.tracerProvider ?? trace.getTracerProvider();
    if (isNoopTracerProvider(provider)) return undefined;
    if (provider !== this.tracerProvider) {
      this.tracerProvider = provider;
      this.tracer = provider.getTracer(scopeName);
    }
    return this.tracer;
  }

  private resolveInstruments(): RpcInstruments | undefined {
    const provider = this.options.meterProvider ?? metrics.getMeterProvider();
    if (provider !== this.meterProvider) {
      this.meterProvider = provider;
      const meter = provider.getMeter(scopeName);
      this.instruments = meter === createNoopMeter() ? undefined : createInstruments(meter, this.side, this.mode, this.options.sizeMetrics ?? false);
    }
    return this.instruments;
  }
}

/**
 * Create the histograms the semantic conventions define for one side, in one
 * mode. The old conventions' message size histograms only with `sizeMetrics`.
 */
export function createInstruments(meter: Meter, side: "client" | "server", mode: SemconvMode, sizeMetrics: boolean): RpcInstruments {
  const client = side === "client";
  const out: { -readonly [K in keyof RpcInstruments]: RpcInstruments[K] } = {};
  const direction = client ? "outbound" : "inbound";
  if (emitsOld(mode)) {
    out.durationMs = meter.createHistogram(client ? metricNames.clientDuration : metricNames.serverDuration, {
      description: `Measures the duration of ${direction} RPC.`,
      unit: "ms",
      valueType: ValueType.DOUBLE,
    });
    const sizes = (name: string, what: string) =>
      meter.createHistogram(name, { description: `Measures the size of RPC ${what} messages (uncompressed).`, unit: "By", valueType: ValueType.INT });
    if (sizeMetrics) {
      out.requestSize = sizes(client ? metricNames.clientRequestSize : metricNames.serverRequestSize, "request");
      out.responseSize = sizes(client ? metricNames.clientResponseSize : metricNames.serverResponseSize, "response");
    }
    const counts = (name: string, what: string) =>
      meter.createHistogram(name, { description: `Measures the number of messages ${what} per RPC.`, unit: "{count}", valueType: ValueType.INT });
    out.requestsPerRpc = counts(client ? metricNames.clientRequestsPerRpc : metricNames.serverRequestsPerRpc, client ? "sent" : "received");
    out.responsesPerRpc = counts(client ? metricNames.clientResponsesPerRpc : metricNames.serverResponsesPerRpc, client ? "received" : "sent");
  }
  if (emitsStable(mode)) {
    out.durationS = meter.createHistogram(client ? metricNames.clientCallDuration : metricNames.serverCallDuration, {
      description: `Measures the duration of ${direction} remote procedure calls (RPC).`,
      unit: "s",
      valueType: ValueType.DOUBLE,
      advice: { explicitBucketBoundaries: [...secondsBuckets] },
    });
  }
  return out;
}
