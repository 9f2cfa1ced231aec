import { create, type DescMessage, type DescMethod } from "@bufbuild/protobuf";
import { Metadata } from "@grpc/grpc-js";
import { Status, grpcErrorFromServiceError, type GrpcError } from "./grpc-error.js";
import { abortedError, earliestDeadline, firstAborted, onAnyAbort } from "./deadline.js";
import { startClientHooks, type ClientHook, type ComposedClientHooks } from "./hooks.js";
import { toMetadata, type MetadataInit } from "./metadata.js";
import { currentPropagatedContext } from "./propagation.js";

/** The part of CallOptions the set-up reads. */
export interface CallSetupOptions {
  readonly deadline?: Date | number;
  readonly timeoutMs?: number;
  readonly metadata?: MetadataInit;
  readonly signal?: AbortSignal;
  readonly propagate?: boolean;
  /** Called once when the call ends, with the final attempt's trailers (see `succeed` / `fail`). */
  readonly onTrailer?: (trailer: Metadata) => void;
}

/** Client-level inputs of the set-up. */
export interface CallDefaults {
  readonly hooks: readonly ClientHook[];
  /** Timeout (ms) applied when the call sets neither `deadline` nor `timeoutMs`; undefined = none. */
  readonly timeoutMs: number | undefined;
  /** Inherit the deadline and cancellation of the server call being handled (default true). */
  readonly propagate: boolean;
}

/** One client call's set-up: metadata, deadline, cancellation and hooks. */
export interface StartedCall {
  /** Set when the call must fail before it starts (already aborted, a request hook threw). */
  error?: unknown;
  readonly metadata: Metadata;
  /** Absolute deadline, ms since the Unix epoch; Infinity for none. */
  readonly deadline: number;
  /** Signals that cancel the call: the caller's, an inherited one, those hooks added. */
  readonly signals: readonly AbortSignal[];
  readonly hooks: ComposedClientHooks;
  /** Create the request message and run the request hooks; a failure is kept in `error`. */
  prepare(schema: DescMessage, init: unknown): unknown;
  /** Cancel the call when any of the call's signals aborts (removed by succeed / fail). */
  link(cancel: () => void): void;
  /** The call succeeded: end hooks, remove listeners, then `onTrailer` with the final attempt's trailers (default: empty). */
  succeed(trailer?: Metadata): void;
  /**
   * The call failed: convert to GrpcError, end hooks, remove listeners, then
   * `onTrailer` with the error's trailers. Returns the error to surface.
   */
  fail(err: unknown): GrpcError;
}


/**
 * Set up a call: resolve its deadline once (call options, else the default
 * timeout; the earlier of that and an inherited deadline), collect its
 * signals, start the client hooks (which may lower the deadline or add
 * signals).
 */
export function startCall(method: DescMethod, options: CallSetupOptions, defaults: CallDefaults): StartedCall {
  const own = options.deadline === undefined && options.timeoutMs === undefined && defaults.timeoutMs !== undefined
    ? resolveDeadline({ timeoutMs: defaults.timeoutMs })
    : resolveDeadline(options);
  const start = { method, metadata: toMetadata(options.metadata), deadline: own, signals: [] as AbortSignal[] };
  if (options.signal) start.signals.push(options.signal);
  if (defaults.propagate && options.propagate !== false) {
    const upstream = currentPropagatedContext();
    if (upstream !== undefined) {
      start.deadline = earliestDeadline(own, upstream.deadline);
      start.signals.push(upstream.signal);
    }
  }
  const hooks = startClientHooks(defaults.hooks, start); // shared no-op hooks when there are none: no allocation
  return new ClientCall(start.metadata, start.deadline, start.signals, hooks, options.onTrailer);
}

const okResult = Object.freeze({ code: Status.OK, message: "" });

/** StartedCall as a class: one allocation per call, methods shared. */
class ClientCall implements StartedCall {
  error?: unknown;
  private unlink: (() => void) | undefined;

  constructor(
    readonly metadata: Metadata,
    readonly deadline: number,
    readonly signals: readonly AbortSignal[],
    readonly hooks: ComposedClientHooks,
    private readonly onTrailer: ((trailer: Metadata) => void) | undefined,
  ) {
    const aborted = firstAborted(signals);
    if (aborted) this.error = abortedError(aborted);
  }

  prepare(schema: DescMessage, init: unknown): unknown {
    try {
      const message = create(schema, init as never);
      this.hooks.request(message);
      return message;
    } catch (err) {
      this.error ??= err;
      return undefined;
    }
  }

  link(cancel: () => void): void {
    this.cleanup();
    this.unlink = onAnyAbort(this.signals, cancel);
  }

  succeed(trailer?: Metadata): void {
    this.cleanup();
    const md = trailer ?? new Metadata();
    this.hooks.trailer(md);
    this.hooks.end(okResult);
    this.onTrailer?.(md);
  }

  fail(err: unknown): GrpcError {
    this.cleanup();
    const error = grpcErrorFromServiceError(err);
    this.hooks.trailer(error.metadata);
    this.hooks.end({ code: error.code, message: error.rawMessage, error });
    this.onTrailer?.(error.metadata);
    return error;
  }

  private cleanup(): void {
    this.unlink?.();
    this.unlink = undefined;
  }
}

/**
 * The call's absolute deadline in milliseconds since the Unix epoch
 * (`Infinity` when there is none): the earlier of `deadline` and
 * `now + timeoutMs`.
 *
 * @throws RangeError if `timeoutMs` is negative or not a number.
 */
export function resolveDeadline(options: Pick<CallSetupOptions, "deadline" | "timeoutMs">): number {
  let deadline = Infinity;
  if (options.deadline !== undefined) {
    deadline = options.deadline instanceof Date ? options.deadline.getTime() : options.deadline;
  }
  if (options.timeoutMs !== undefined) {
    if (!(options.timeoutMs >= 0)) throw new RangeError(`timeoutMs must be a number >= 0, got ${options.timeoutMs}`);
    deadline = Math.min(deadline, Date.now() + options.timeoutMs);
  }
  return deadline;
}
