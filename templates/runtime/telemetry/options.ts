import type { MeterProvider, TracerProvider } from "@opentelemetry/api";
import type { SemconvMode } from "./semconv.js";

/**
 * Options of the OpenTelemetry wiring of generated clients and servers. All
 * optional; the defaults record with the globally registered providers.
 */
export interface TelemetryOptions {
  /** Tracer provider for the CLIENT / SERVER spans. Default: the global one (`trace.getTracerProvider()`). */
  readonly tracerProvider?: TracerProvider;
  /** Meter provider for the RPC metrics. Default: the global one (`metrics.getMeterProvider()`). */
  readonly meterProvider?: MeterProvider;
  /**
   * Which semantic conventions to emit. Default: read from the environment
   * variable `OTEL_SEMCONV_STABILITY_OPT_IN` once, when the hook is created
   * (`rpc` = stable, `rpc/dup` = both, otherwise the old v1.37.0 ones).
   */
  readonly semconv?: SemconvMode;
  /**
   * Request metadata keys (lowercase header names) recorded as span
   * attributes, each explicitly: `rpc.grpc.request.metadata.<key>` (old) /
   * `rpc.request.header.<key>` (stable), values as string arrays (`-bin`
   * values base64). Default: none. Never list credentials.
   */
  readonly requestMetadata?: readonly string[];
  /**
   * Response header keys recorded the same way (`rpc.grpc.response.metadata.<key>` /
   * `rpc.response.header.<key>`). Default: none.
   */
  readonly responseMetadata?: readonly string[];
  /**
   * Response trailer keys recorded the same way (`rpc.grpc.response.metadata.<key>` /
   * `rpc.response.trailer.<key>`). Server spans only: the runtime's client
   * hooks do not see trailers. Default: none.
   */
  readonly responseTrailers?: readonly string[];
  /**
   * Add an `rpc.message` span event (type, id, uncompressed size in bytes)
   * per message sent and received on streaming calls; never on unary calls
   * (docs/rpc/rpc-events.md: "In case of unary calls message events SHOULD
   * NOT be recorded"). Default: on with the old conventions (and `rpc/dup`),
   * off with `rpc` only (the stable conventions deprecate the event). Each
   * event encodes its message a second time to know its size.
   */
  readonly messageEvents?: boolean;
  /**
   * Record the old conventions' message size histograms
   * `rpc.{client,server}.{request,response}.size` (bytes, one point per
   * message). Default: false: the current conventions removed them, and
   * each point needs the message encoded a second time. No effect with `rpc`
   * only.
   */
  readonly sizeMetrics?: boolean;
}

/**
 * Client-side options: the telemetry options plus the address the client
 * connects to, for `server.address` / `server.port`.
 */
export interface ClientTelemetryOptions extends TelemetryOptions {
  /** The client's target (`host:port`, `dns:///host:port`, `unix:/path`, a channel's `getTarget()`). */
  readonly target?: string;
}

/**
 * Server-side options: the telemetry options plus the server's logical
 * address. grpc-js does not tell a handler which local address a call came
 * in on, so `server.address` / `server.port` are set only when given here.
 */
export interface ServerTelemetryOptions extends TelemetryOptions {
  /** The server's address as clients know it (host name or IP), for `server.address`. Default: not recorded. */
  readonly serverAddress?: string;
  /** The server's port, for `server.port`. Default: not recorded. */
  readonly serverPort?: number;
}
