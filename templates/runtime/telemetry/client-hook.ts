import type { Metadata } from "@grpc/grpc-js";
import type { Attributes, Span } from "@opentelemetry/api";
import { otel } from "./otel-api.js";
import type { AttemptInfo, CallResult, ClientCallHooks, ClientHook } from "../hooks.js";
import { addMetadataAttributes, buildPeerAttributes, parseTarget, type Endpoint } from "./attributes.js";
import { CallRecorder, type RecorderConfig } from "./call-recorder.js";
import { metadataSetter } from "./metadata-carrier.js";
import { createMethodTelemetryCache, type MethodTelemetry } from "./method-telemetry.js";
import type { ClientTelemetryOptions } from "./options.js";
import { TelemetrySource, type RpcInstruments } from "./providers.js";
import { attr, emitsOld, parseSemconvMode } from "./semconv.js";

const { SpanKind, context, propagation, trace } = otel;

export { spanName } from "./method-telemetry.js";

/**
 * A client hook recording every call with OpenTelemetry (API only; the SDK
 * is the application's):
 * - a CLIENT span named `pkg.Service/Method`, child of the active context,
 *   with the RPC attributes of the selected semantic conventions
 *   (`server.address` / `server.port` from `options.target`;
 *   `network.peer.address` / `network.peer.port` of the attempt the call
 *   ended with, when known and different from the target), message events
 *   on streaming calls, retry-attempt events (`grpckit.attempt`, with the
 *   backoff waited) and the final status; the span status is ERROR for every
 *   non-OK code, with the status message;
 * - the trace context (and baggage) of that span injected into the request
 *   metadata through the globally registered propagator;
 * - the client RPC histograms.
 *
 * Reads `OTEL_SEMCONV_STABILITY_OPT_IN` once, now, unless `options.semconv`
 * is given. With no SDK and no propagator registered, a call costs a few
 * global look-ups and allocates nothing.
 */
export function createClientTelemetryHook(options: ClientTelemetryOptions = {}): ClientHook {
  const mode = options.semconv ?? parseSemconvMode(process.env["OTEL_SEMCONV_STABILITY_OPT_IN"]);
  const server = options.target === undefined ? undefined : parseTarget(options.target);
  const source = new TelemetrySource("client", mode, options);
  const config: RecorderConfig = { side: "client", mode, messageEvents: options.messageEvents ?? emitsOld(mode) };
  const requestKeys = options.requestMetadata ?? [];
  const responseKeys = options.responseMetadata ?? [];
  const methodTelemetry = createMethodTelemetryCache(mode, "client", server);

  return (start) => {
    const active = source.resolve();
    if (active === undefined) return undefined;
    const info = methodTelemetry(start.method);
    const parent = context.active();
    let callContext = parent;
    let span: Span | undefined;
    if (active.tracer !== undefined) {
      let attributes = info.attributes;
      if (requestKeys.length > 0) {
        attributes = { ...attributes };
        addMetadataAttributes(attributes, start.metadata, requestKeys, mode, "request");
      }
      span = active.tracer.startSpan(info.spanName, { kind: SpanKind.CLIENT, attributes }, parent);
      callContext = trace.setSpan(parent, span);
    }
    propagation.inject(callContext, start.metadata, metadataSetter);
    const recording = span?.isRecording() ? span : undefined;
    if (recording === undefined && active.instruments === undefined) return undefined;
    return new ClientCallTelemetry(recording, active.instruments, info, config, responseKeys, server);
  };
}

/** The per-call callbacks of the client hook: one object per call, no closures. */
class ClientCallTelemetry extends CallRecorder implements ClientCallHooks {
  private headerAttributes: Attributes | undefined;

  constructor(
    span: Span | undefined,
    instruments: RpcInstruments | undefined,
    info: MethodTelemetry,
    config: RecorderConfig,
    private readonly responseKeys: readonly string[],
    private readonly server: Endpoint | undefined,
  ) {
    super(span, instruments, info, config);
  }

  request(message: unknown): void {
    this.onSent(message, this.info.method.input);
  }

  response(message: unknown): void {
    this.onReceived(message, this.info.method.output);
  }

  header(header: Metadata): void {
    if (this.span === undefined || this.responseKeys.length === 0) return;
    addMetadataAttributes((this.headerAttributes = {}), header, this.responseKeys, this.config.mode, "response");
  }

  attempt(info: AttemptInfo): void {
    this.onAttempt(info.attempt, info.backoffMs, info.previous?.code);
  }

  end(result: CallResult): void {
    let attributes = this.headerAttributes;
    // network.peer.address / network.peer.port of the final attempt's connection: recommended by the
    // RPC semantic conventions "if different than server.address" (a resolved name, a balanced target)
    if (this.span !== undefined && result.peer !== undefined) {
      const peer = buildPeerAttributes(result.peer);
      const address = peer[attr.networkPeerAddress];
      if (address !== undefined && (address !== this.server?.address || peer[attr.networkPeerPort] !== this.server?.port)) attributes = { ...attributes, ...peer };
    }
    this.finish(result, attributes);
  }
}
