import { toBinary, type DescMessage } from "@bufbuild/protobuf";
import type { Attributes, Histogram, Span } from "@opentelemetry/api";
import { otel } from "./otel-api.js";
import { GrpcError } from "../grpc-error.js";
import type { CallResult } from "../hooks.js";
import type { MethodTelemetry } from "./method-telemetry.js";
import type { RpcInstruments } from "./providers.js";
import { attr, grpckitAttr, isError, messageEventName, statusName, type SemconvMode } from "./semconv.js";

const { SpanStatusCode } = otel;

/** How a recorder behaves; fixed per hook. */
export interface RecorderConfig {
  readonly side: "client" | "server";
  readonly mode: SemconvMode;
  /** `rpc.message` events on streaming calls (never on unary calls). */
  readonly messageEvents: boolean;
}

/**
 * Records one call on its span (when recording) and in the RPC histograms
 * (when a meter provider is registered): message events and sizes as
 * messages pass (streaming calls), status, duration and messages per RPC
 * (streaming calls) at the end. `sent` / `received` are from this side's
 * point of view (a client sends requests, a server sends responses). The
 * client and server hooks extend it with their per-call callbacks, so a
 * call allocates one object and no closures.
 *
 * A message is encoded a second time (`toBinary`) for its size only when
 * something records the size: a message event, or a size histogram
 * (`sizeMetrics`).
 */
export class CallRecorder {
  private sentCount = 0;
  private receivedCount = 0;
  private readonly startMs = performance.now();
  /** The span that gets message events: recording, events on, streaming method. */
  private readonly eventSpan: Span | undefined;
  private readonly sentSize: Histogram | undefined;
  private readonly receivedSize: Histogram | undefined;

  constructor(
    /** The call's span when it is recording. */
    protected readonly span: Span | undefined,
    private readonly instruments: RpcInstruments | undefined,
    protected readonly info: MethodTelemetry,
    protected readonly config: RecorderConfig,
  ) {
    this.eventSpan = span !== undefined && config.messageEvents && info.streaming ? span : undefined;
    const client = config.side === "client";
    this.sentSize = client ? instruments?.requestSize : instruments?.responseSize;
    this.receivedSize = client ? instruments?.responseSize : instruments?.requestSize;
  }

  /** A message this side sent. */
  protected onSent(message: unknown, schema: DescMessage): void {
    this.sentCount++;
    if (this.eventSpan !== undefined || this.sentSize !== undefined) this.message(message, schema, "SENT", this.sentCount, this.sentSize);
  }

  /** A message this side received. */
  protected onReceived(message: unknown, schema: DescMessage): void {
    this.receivedCount++;
    if (this.eventSpan !== undefined || this.receivedSize !== undefined) {
      this.message(message, schema, "RECEIVED", this.receivedCount, this.receivedSize);
    }
  }

  private message(message: unknown, schema: DescMessage, type: "SENT" | "RECEIVED", id: number, sizes: Histogram | undefined): void {
    const size = toBinary(schema, message as never).byteLength;
    this.eventSpan?.addEvent(messageEventName, { [attr.messageType]: type, [attr.messageId]: id, [attr.messageUncompressedSize]: size });
    sizes?.record(size, this.info.attributes);
  }

  /** A retry attempt (see `AttemptInfo`): an event on the span. */
  protected onAttempt(attempt: number, backoffMs: number, previousCode: number | undefined): void {
    if (this.span === undefined || attempt <= 1) return;
    const a: Attributes = { [grpckitAttr.attempt]: attempt, [grpckitAttr.backoffMs]: backoffMs };
    if (previousCode !== undefined) a[grpckitAttr.previousStatus] = statusName(previousCode);
    this.span.addEvent(grpckitAttr.attemptEvent, a);
    this.span.setAttribute(grpckitAttr.attemptCount, attempt);
  }

  /**
   * The call ended: record the duration (and messages per RPC on streaming
   * calls), then set the status on the span (plus `spanAttributes`, e.g.
   * opted-in response metadata) and end it.
   */
  protected finish(result: CallResult, spanAttributes: Attributes | undefined): void {
    const { side } = this.config;
    const i = this.instruments;
    if (i !== undefined) {
      const elapsedMs = performance.now() - this.startMs;
      const a = this.info.endAttributes(result.code);
      i.durationMs?.record(elapsedMs, a);
      i.durationS?.record(elapsedMs / 1000, a);
      if (this.info.streaming) {
        i.requestsPerRpc?.record(side === "client" ? this.sentCount : this.receivedCount, a);
        i.responsesPerRpc?.record(side === "client" ? this.receivedCount : this.sentCount, a);
      }
    }
    const span = this.span;
    if (span === undefined) return;
    if (spanAttributes !== undefined) span.setAttributes(spanAttributes);
    span.setAttributes(this.info.statusAttributes(result.code));
    if (result.code !== 0) {
      span.addEvent(grpckitAttr.statusEvent, { [grpckitAttr.statusCode]: statusName(result.code), [grpckitAttr.statusMessage]: result.message });
    }
    if (side === "server" && result.error !== undefined && !(result.error instanceof GrpcError)) {
      // A handler bug answered INTERNAL: keep what was thrown (it never reaches the client).
      span.recordException(result.error instanceof Error ? result.error : String(result.error));
    }
    if (isError(result.code, side)) span.setStatus({ code: SpanStatusCode.ERROR, message: result.message });
    span.end();
  }
}
