import { create, type DescMessage, type DescMethod } from "@bufbuild/protobuf";
import { Metadata } from "@grpc/grpc-js";
import { Status, grpcErrorFromServiceError, type GrpcError } from "./grpc-error.js";
import { abortedError, earliestDeadline, firstAborted } from "./deadline.js";
import { noClientHooks, startClientHooks, type CallResult, type ClientHook, type ComposedClientHooks } from "./hooks.js";
import { toMetadata, type MetadataInit } from "./metadata.js";
import { currentPropagatedContext } from "./propagation.js";

/** The part of CallOptions the set-up reads. */
export interface CallSetupOptions {
  readonly deadline?: Date | number;
  readonly timeoutMs?: number;
  readonly metadata?: MetadataInit;
  readonly signal?: AbortSignal;
  readonly propagate?: boolean;
  /** Called with the response headers of the attempt the call committed to. */
  readonly onHeader?: (header: Metadata) => void;
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
  /** The caller's callbacks. */
  readonly observers: Pick<CallSetupOptions, "onHeader">;
  /** Create the request message and run the request hooks; a failure is kept in `error`. */
  prepare(schema: DescMessage, init: unknown): unknown;
  /** The call succeeded: end hooks, then `onTrailer` with the final attempt's trailers (default: empty). `peer`: the final attempt's. */
  succeed(trailer?: Metadata, peer?: string): void;
  /**
   * The call failed: convert to GrpcError, end hooks, then `onTrailer`
   * with the error's trailers (unless the call ended already). Returns the
   * error to surface.
   */
  fail(err: unknown, peer?: string): GrpcError;
}


/**
 * Set up a call: resolve its deadline once (call options, else the default
 * timeout; the earlier of that and an inherited deadline), collect its
 * signals, start the client hooks (which may lower the deadline or add
 * signals). A hook that throws fails the call (kept in `error`, the hooks
 * started before it are ended).
 *
 * @throws TypeError on an invalid `timeoutMs` or `deadline` (callers turn it into a rejection).
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
  let hooks: ComposedClientHooks;
  try {
    hooks = startClientHooks(defaults.hooks, start); // shared no-op hooks when there are none: no allocation
  } catch (err) {
    const call = new ClientCall(start.metadata, farAsNone(start.deadline), start.signals, noClientHooks, options);
    call.error ??= err;
    return call;
  }
  return new ClientCall(start.metadata, farAsNone(start.deadline), start.signals, hooks, options); // an inherited or hook-set deadline too
}

const okResult = Object.freeze({ code: Status.OK, message: "" });

/** StartedCall as a class: one allocation per call, methods shared. */
class ClientCall implements StartedCall {
  error?: unknown;
  private finished = false;

  constructor(
    readonly metadata: Metadata,
    readonly deadline: number,
    readonly signals: readonly AbortSignal[],
    readonly hooks: ComposedClientHooks,
    readonly observers: CallSetupOptions,
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

  succeed(trailer?: Metadata, peer?: string): void {
    this.finished = true;
    const md = trailer ?? new Metadata();
    try {
      this.hooks.trailer(md);
    } catch (err) {
      // A trailer hook failed the call: the hooks end with that local error, which the caller gets (see CallEngine.end).
      const error = grpcErrorFromServiceError(err, "local");
      this.hooks.end(withPeer({ code: error.code, message: error.rawMessage, error }, peer));
      throw error;
    }
    this.hooks.end(peer === undefined ? okResult : { code: Status.OK, message: "", peer });
    this.observers.onTrailer?.(md);
  }

  fail(err: unknown, peer?: string): GrpcError {
    const error = grpcErrorFromServiceError(err);
    if (this.finished) return error;
    this.finished = true;
    let hookFailure: { error: unknown } | undefined;
    try {
      this.hooks.trailer(error.metadata);
    } catch (e) {
      hookFailure = { error: e }; // thrown after the hooks ended (with the call's own status)
    }
    this.hooks.end(withPeer({ code: error.code, message: error.rawMessage, error }, peer));
    if (hookFailure !== undefined) throw hookFailure.error;
    this.observers.onTrailer?.(error.metadata);
    return error;
  }
}

function withPeer(result: CallResult, peer: string | undefined): CallResult {
  return peer === undefined ? result : { ...result, peer };
}

/**
 * The call's absolute deadline in milliseconds since the Unix epoch
 * (`Infinity` when there is none): the earlier of `deadline` and
 * `now + timeoutMs`. A deadline more than 2^31 - 1 ms (about 24.8 days)
 * away counts as none (`Infinity`).
 *
 * @throws TypeError if `timeoutMs` is negative or not a number, or `deadline` is not a valid time.
 */
export function resolveDeadline(options: Pick<CallSetupOptions, "deadline" | "timeoutMs">): number {
  let deadline = Infinity;
  if (options.deadline !== undefined) {
    deadline = options.deadline instanceof Date ? options.deadline.getTime() : options.deadline;
    if (typeof deadline !== "number" || Number.isNaN(deadline)) throw new TypeError(`deadline must be a Date or milliseconds since the epoch, got ${String(options.deadline)}`);
  }
  if (options.timeoutMs !== undefined) {
    if (typeof options.timeoutMs !== "number" || !(options.timeoutMs >= 0)) throw new TypeError(`timeoutMs must be a number >= 0, got ${options.timeoutMs}`);
    deadline = Math.min(deadline, Date.now() + options.timeoutMs);
  }
  return farAsNone(deadline);
}

/** `deadline`, or `Infinity` when it is more than {@link maxDeadlineDistanceMs} away. */
function farAsNone(deadline: number): number {
  return deadline !== Infinity && deadline - Date.now() > maxDeadlineDistanceMs ? Infinity : deadline;
}

/**
 * The farthest deadline sent, 2^31 - 1 ms (about 24.8 days) from now; a
 * farther one counts as none. grpc-js servers read a longer `grpc-timeout`
 * into a 32-bit integer and expire the call at once, and grpc-js clients
 * refuse deadlines some 11 000 years away.
 */
const maxDeadlineDistanceMs = 2 ** 31 - 1;
