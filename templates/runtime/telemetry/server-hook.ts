import type { Attributes, Context, Span } from "@opentelemetry/api";
import { otel } from "./otel-api.js";
import type { CallResult, ServerCallHooks, ServerHook } from "../hooks.js";
import type { HandlerContext } from "../server-context.js";
import { addMetadataAttributes, buildPeerAttributes, type Endpoint } from "./attributes.js";
import { CallRecorder, type RecorderConfig } from "./call-recorder.js";
import { metadataGetter } from "./metadata-carrier.js";
import { createMethodTelemetryCache, type MethodTelemetry } from "./method-telemetry.js";
import type { ServerTelemetryOptions } from "./options.js";
import { TelemetrySource, type RpcInstruments } from "./providers.js";
import { emitsOld, parseSemconvMode } from "./semconv.js";

const { SpanKind, context, propagation, trace } = otel;

/** Peer strings whose attributes are kept (connections are long-lived; the cache is emptied when full). */
const maxCachedPeers = 512;

/**
 * A server hook recording every handled call with OpenTelemetry (API only):
 * - the caller's trace context (and baggage) extracted from the request
 *   metadata with the globally registered propagator;
 * - a SERVER span named `pkg.Service/Method`, child of that context, with
 *   the RPC attributes of the selected semantic conventions, the peer
 *   address (`network.peer.address` / `network.peer.port` from
 *   `HandlerContext.peer`), message events on streaming calls and the final
 *   status. The span status is ERROR only for the codes the gRPC conventions
 *   name as server errors (UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED,
 *   INTERNAL, UNAVAILABLE, DATA_LOSS); any other non-OK code (e.g.
 *   INVALID_ARGUMENT from validation) is recorded as the status-code
 *   attributes plus a `grpckit.status` event with the status message, and
 *   leaves the status unset;
 * - the span as the active context of the handler (through `around`), across
 *   `await`s and async-iterator steps, so calls made from the handler with
 *   instrumented clients become its children;
 * - the server RPC histograms.
 *
 * Reads `OTEL_SEMCONV_STABILITY_OPT_IN` once, now, unless `options.semconv`
 * is given. With no SDK and no propagator registered, a call costs a few
 * global look-ups and allocates nothing.
 */
export function createServerTelemetryHook(options: ServerTelemetryOptions = {}): ServerHook {
  const mode = options.semconv ?? parseSemconvMode(process.env["OTEL_SEMCONV_STABILITY_OPT_IN"]);
  const server: Endpoint | undefined =
    options.serverAddress === undefined ? undefined : { address: options.serverAddress, port: options.serverPort };
  const source = new TelemetrySource("server", mode, options);
  const config: RecorderConfig = { side: "server", mode, messageEvents: options.messageEvents ?? emitsOld(mode) };
  const metadataKeys: EndMetadataKeys = {
    request: options.requestMetadata ?? [],
    response: options.responseMetadata ?? [],
    trailer: options.responseTrailers ?? [],
  };
  const methodTelemetry = createMethodTelemetryCache(mode, "server", server);
  const peers = new Map<string, Attributes>();
  const peerAttributes = (peer: string): Attributes => {
    let a = peers.get(peer);
    if (a === undefined) {
      if (peers.size >= maxCachedPeers) peers.clear();
      peers.set(peer, (a = buildPeerAttributes(peer)));
    }
    return a;
  };

  return (method, handler) => {
    const active = source.resolve();
    if (active === undefined) return undefined;
    let callContext = propagation.extract(context.active(), handler.requestMetadata, metadataGetter);
    const info = methodTelemetry(method);
    let span: Span | undefined;
    if (active.tracer !== undefined) {
      const attributes: Attributes = { ...info.attributes, ...peerAttributes(handler.peer) };
      if (metadataKeys.request.length > 0) addMetadataAttributes(attributes, handler.requestMetadata, metadataKeys.request, mode, "request");
      span = active.tracer.startSpan(info.spanName, { kind: SpanKind.SERVER, attributes }, callContext);
      callContext = trace.setSpan(callContext, span);
    }
    const recording = span?.isRecording() ? span : undefined;
    if (recording === undefined && active.instruments === undefined) return new ContextScope(callContext);
    return new ServerCallTelemetry(recording, active.instruments, info, config, { callContext, handler, metadataKeys });
  };
}

interface EndMetadataKeys {
  readonly request: readonly string[];
  readonly response: readonly string[];
  readonly trailer: readonly string[];
}

/** Runs the handler in the call's context; nothing recorded (only a propagator, or a span not recording and no meter). */
class ContextScope implements ServerCallHooks {
  constructor(private readonly callContext: Context) {}

  around<T>(fn: () => T): T {
    return context.with(this.callContext, fn);
  }
}

/** The per-call callbacks of the server hook: one object per call, no closures. */
class ServerCallTelemetry extends CallRecorder implements ServerCallHooks {
  constructor(
    span: Span | undefined,
    instruments: RpcInstruments | undefined,
    info: MethodTelemetry,
    config: RecorderConfig,
    private readonly call: { readonly callContext: Context; readonly handler: HandlerContext; readonly metadataKeys: EndMetadataKeys },
  ) {
    super(span, instruments, info, config);
  }

  around<T>(fn: () => T): T {
    return context.with(this.call.callContext, fn);
  }

  request(message: unknown): void {
    this.onReceived(message, this.info.method.input);
  }

  response(message: unknown): void {
    this.onSent(message, this.info.method.output);
  }

  end(result: CallResult): void {
    const { handler, metadataKeys } = this.call;
    let endAttributes: Attributes | undefined;
    if (this.span !== undefined && (metadataKeys.response.length > 0 || metadataKeys.trailer.length > 0)) {
      endAttributes = {};
      addMetadataAttributes(endAttributes, handler.responseHeader, metadataKeys.response, this.config.mode, "response");
      addMetadataAttributes(endAttributes, handler.responseTrailer, metadataKeys.trailer, this.config.mode, "trailer");
    }
    this.finish(result, endAttributes);
  }
}
