import type { Client, ClientDuplexStream, ClientUnaryCall, Metadata, ServiceError, StatusObject } from "@grpc/grpc-js";
import type { StartedCall } from "./call-setup.js";
import { grpcErrorFromServiceError } from "./grpc-error.js";
import type { methodDefinition } from "./definition.js";
import type { ComposedClientHooks } from "./hooks.js";
import { passThrough, sendRequests, type AttemptState, type RequestReplay } from "./request-replay.js";
import type { Attempt, AttemptDone, AttemptsFinished } from "./retry.js";

type Definition = ReturnType<typeof methodDefinition>;

/** Callback on the response headers of a call (the trailers are reported once per call, by StartedCall). */
export interface Observers {
  readonly onHeader?: (header: Metadata) => void;
}

/** What every attempt of one call shares. */
export interface AttemptContext {
  readonly client: Client;
  readonly def: Definition;
  readonly metadata: Metadata;
  /** Absolute deadline, ms since the Unix epoch (Infinity = none): the same for all attempts, so `grpc-timeout` shrinks. */
  readonly deadline: number;
  readonly hooks: ComposedClientHooks;
  readonly observers: Observers;
}

/** A unary or client-streaming attempt. */
export interface CallAttempt<T> extends Attempt {
  /** The response, once the attempt succeeded. */
  readonly value: T | undefined;
  /** The trailers of this attempt, once it ended. */
  readonly trailer: Metadata | undefined;
}

/**
 * One attempt of a unary call. Each attempt sends a copy of the request
 * metadata. `done` is called once the status (and trailers) arrived;
 * `onCommit` when the response headers arrive (hedging cancels the other
 * attempts then). A class, to keep the per-call cost of the unary path low.
 */
export class UnaryAttempt<T> implements CallAttempt<T> {
  committed = false;
  value: T | undefined;
  trailer: Metadata | undefined;
  private readonly call: ClientUnaryCall;

  constructor(ctx: AttemptContext, message: unknown, done: AttemptDone, onCommit?: () => void) {
    let error: ServiceError | null = null;
    this.call = ctx.client.makeUnaryRequest(
      ctx.def.path,
      ctx.def.requestSerialize,
      ctx.def.responseDeserialize,
      message,
      ctx.metadata.clone(),
      { deadline: ctx.deadline },
      (err, value) => {
        if (err) error = err;
        else this.value = value as T;
      },
    );
    this.call.on("metadata", (header: Metadata) => {
      this.committed = true;
      onCommit?.();
      ctx.hooks.header(header);
      ctx.observers.onHeader?.(header);
    });
    // grpc-js calls the callback before it emits "status" (an OK status can come with an error: no response message)
    this.call.on("status", (s: StatusObject) => {
      this.trailer = s.metadata;
      done(error ?? (s.code === 0 ? null : s));
    });
  }

  cancel(): void {
    this.call.cancel();
  }
}

/**
 * Start one attempt of a client-streaming call: send the requests from
 * `replay` (the kept ones first), resolve with the response once the status
 * arrived. The attempt is committed once the response headers arrived, the
 * retry buffer overflowed, or pulling a request failed; in the last case it
 * fails with that error.
 */
export function startClientStreamAttempt<T>(ctx: AttemptContext, replay: RequestReplay, done: AttemptDone): CallAttempt<T> {
  const state: AttemptState = { ended: false };
  let headerSeen = false;
  let trailer: Metadata | undefined;
  let requestFailure: { readonly error: unknown } | undefined;
  let outcome: { err: ServiceError | null; value: unknown } | undefined;
  const call = ctx.client.makeClientStreamRequest(ctx.def.path, passThrough, ctx.def.responseDeserialize, ctx.metadata.clone(), { deadline: ctx.deadline }, (err, value) => {
    outcome = { err, value };
  });
  call.on("metadata", (header: Metadata) => {
    headerSeen = true;
    ctx.hooks.header(header);
    ctx.observers.onHeader?.(header);
  });
  call.on("status", (s: StatusObject) => {
    state.ended = true;
    trailer = s.metadata;
    if (requestFailure !== undefined) done(requestFailure.error);
    else done(outcome?.err ?? (s.code === 0 ? null : s));
  });
  sendRequests(call, replay, state).catch((error: unknown) => {
    if (state.ended) return;
    requestFailure = { error };
    call.cancel();
  });
  return {
    cancel: () => call.cancel(),
    get committed() {
      return headerSeen || replay.overflowed || replay.failed;
    },
    get value() {
      return outcome?.value as T | undefined;
    },
    get trailer() {
      return trailer;
    },
  };
}

/**
 * Open one attempt of a bidi call and send it the requests from `replay`.
 * If pulling a request fails, `requestFailure` aborts with the error (the
 * call fails with it, unretried) and the attempt is cancelled.
 */
export function openBidiAttempt(ctx: AttemptContext, replay: RequestReplay, requestFailure: AbortController): ClientDuplexStream<unknown, unknown> {
  const call = ctx.client.makeBidiStreamRequest(ctx.def.path, passThrough, ctx.def.responseDeserialize, ctx.metadata.clone(), { deadline: ctx.deadline });
  const state: AttemptState = { ended: false };
  call.once("status", () => (state.ended = true));
  sendRequests(call, replay, state).catch((err: unknown) => {
    if (state.ended) return;
    requestFailure.abort(grpcErrorFromServiceError(err));
    call.cancel();
  });
  return call;
}

/**
 * The `finish` callback of a unary or client-streaming call's attempts:
 * run the response hooks on the winner's response and succeed with its
 * trailers, or fail; then settle the call's promise. Releases the request
 * replay (if any) either way.
 */
export function settleCall<T>(
  started: StartedCall,
  resolve: (value: T) => void,
  reject: (error: unknown) => void,
  replay?: RequestReplay,
): AttemptsFinished<CallAttempt<T>> {
  return (error, winner) => {
    replay?.close();
    try {
      if (error !== undefined || winner === undefined) return reject(started.fail(error));
      const response = winner.value as T;
      try {
        started.hooks.response(response);
      } catch (hookErr) {
        return reject(started.fail(hookErr));
      }
      started.succeed(winner.trailer);
      resolve(response);
    } catch (callbackErr) {
      reject(callbackErr); // an onTrailer callback threw
    }
  };
}

/** The grpc-js events a streaming call emits that observers care about. */
interface ObservableCall {
  on(event: "metadata", l: (m: Metadata) => void): unknown;
}

/** Forward a streaming call's headers to the hooks and observers. */
export function observeCall(call: ObservableCall, ctx: Pick<AttemptContext, "hooks" | "observers">, onHeader?: () => void): void {
  call.on("metadata", (header) => {
    onHeader?.();
    ctx.hooks.header(header);
    ctx.observers.onHeader?.(header);
  });
}
