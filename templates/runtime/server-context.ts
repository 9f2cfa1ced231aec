import type { DescMethod } from "@bufbuild/protobuf";
import { Metadata } from "@grpc/grpc-js";
import type { ServerUnaryCall } from "@grpc/grpc-js";
import { GrpcError, Status } from "./grpc-error.js";
import { mergeMetadata } from "./metadata.js";
import { methodPath } from "./definition.js";
import type { ServerState } from "./server-registry.js";
import { authContextOf, peerIdentity, type PeerIdentity } from "./security/peer-identity.js";

/**
 * What a handler knows about the call it serves. One per call.
 */
export interface HandlerContext {
  /** The method being served. */
  readonly method: DescMethod;
  /** The method's path, `/package.Service/Method`. */
  readonly path: string;
  /** The request metadata (headers) the client sent. */
  readonly requestMetadata: Metadata;
  /**
   * The call's deadline in milliseconds since the Unix epoch (comparable to
   * `Date.now()`), from the client's `grpc-timeout`; `undefined` when the
   * client set none.
   */
  readonly deadline: number | undefined;
  /**
   * Aborts when the call ends early: the client cancelled (reason: a
   * GrpcError with CANCELLED), the deadline passed (DEADLINE_EXCEEDED), or
   * the server was shut down with `forceShutdown()` (CANCELLED). Pass it on
   * to anything cancellable the handler starts.
   */
  readonly signal: AbortSignal;
  /**
   * Aborts when the server starts a graceful shutdown (drain): long-lived
   * streams should wrap up and return. Unary and client-streaming handlers
   * may ignore it: they are allowed to finish within the grace period.
   */
  readonly draining: AbortSignal;
  /** The peer's address, e.g. `127.0.0.1:53412` (grpc-js `getPeer()`). */
  readonly peer: string;
  /**
   * What `ServerOptions.authenticate` returned for this call (set before the
   * handler runs); `undefined` when the service has no `authenticate`.
   */
  readonly principal: unknown;
  /**
   * The verified TLS identity of the client (certificate subject, SANs,
   * serial), read on first access from grpc-js `getAuthContext()` (grpc-js
   * >= 1.14): `undefined` on plaintext, without a client certificate, and on
   * older grpc-js versions. See `@grpckit/runtime/security`.
   */
  readonly peerIdentity: PeerIdentity | undefined;
  /**
   * Response headers. Entries added before the first response message (or
   * before `sendHeader()`) are sent as headers. If the call fails before
   * they were sent, they are sent with the trailers instead (trailers-only
   * response).
   */
  readonly responseHeader: Metadata;
  /** Response trailers, sent with the status, on success and on error. */
  readonly responseTrailer: Metadata;
  /** Send `responseHeader` now, before the first response message. Later calls do nothing. */
  sendHeader(): void;
  /** Milliseconds left until the deadline (never negative), or `undefined` without a deadline. */
  timeRemainingMs(): number | undefined;
}

/** The part of a grpc-js server call (of any kind) the context uses. */
export type SurfaceCall = Pick<ServerUnaryCall<unknown, unknown>, "metadata" | "getPeer" | "sendMetadata" | "getDeadline"> & {
  on(event: "cancelled", listener: () => void): unknown;
  off(event: "cancelled", listener: () => void): unknown;
};

/** The `draining` signal of calls served outside a registered server: never aborts. */
const neverAborted: AbortSignal = new AbortController().signal;

/** The largest delay setTimeout accepts (about 24.8 days). */
const maxTimerDelayMs = 2 ** 31 - 1;

/**
 * A client cancels a call on its own deadline with RST_STREAM, exactly as it
 * cancels one on purpose. The server's copy of the deadline (arrival time +
 * `grpc-timeout`, rounded up) is later than the client's by the request's
 * transit time, so that RST_STREAM often arrives a few milliseconds before
 * it. A cancellation this close to the deadline (in ms) is therefore taken
 * as the deadline passing (DEADLINE_EXCEEDED), not as CANCELLED.
 */
const deadlineSlackMs = 20;

/**
 * The server runtime's view of one call: the context given to the handler,
 * plus the bookkeeping the method adapters need. Create with
 * {@link startServerCall}; call `finish()` once the handler is done.
 */
export interface ServerCallState {
  readonly context: HandlerContext;
  /** True once `finish()` ran. */
  readonly finished: boolean;
  /** Stop the deadline timer and ignore later cancellation. Idempotent. */
  finish(): void;
  /** Trailers to send with an error: the response trailers, plus the headers if they were never sent. */
  errorTrailers(): Metadata;
}

/**
 * Start tracking a grpc-js server call.
 *
 * @param release - called once by `finish()` (a concurrency slot, see server-limits.ts)
 */
export function startServerCall(call: SurfaceCall, method: DescMethod, server?: Pick<ServerState, "draining">, release?: () => void): ServerCallState {
  const controller = new AbortController();
  const deadline = toEpochMs(call.getDeadline());
  const responseHeader = new Metadata();
  const responseTrailer = new Metadata();
  let headerSent = false;
  let finished = false;
  let timer: NodeJS.Timeout | undefined;
  let identity: PeerIdentity | undefined | null = null;

  const abort = (code: Status, message: string) => {
    if (!finished && !controller.signal.aborted) controller.abort(new GrpcError(code, message));
  };
  const onCancelled = () => {
    const expired = deadline !== undefined && Date.now() >= deadline - deadlineSlackMs;
    if (expired) abort(Status.DEADLINE_EXCEEDED, "deadline exceeded");
    else abort(Status.CANCELLED, "call cancelled");
  };
  call.on("cancelled", onCancelled);
  if (deadline !== undefined) {
    const delay = deadline - Date.now();
    if (delay <= 0) abort(Status.DEADLINE_EXCEEDED, "deadline exceeded");
    else if (delay <= maxTimerDelayMs) {
      timer = setTimeout(() => abort(Status.DEADLINE_EXCEEDED, "deadline exceeded"), delay);
      timer.unref();
    }
  }

  const context: HandlerContext = {
    method,
    path: methodPath(method),
    requestMetadata: call.metadata,
    deadline,
    signal: controller.signal,
    get draining() {
      return server?.draining ?? neverAborted;
    },
    peer: call.getPeer(),
    principal: undefined,
    get peerIdentity() {
      if (identity === null) identity = peerIdentity(authContextOf(call));
      return identity;
    },
    responseHeader,
    responseTrailer,
    sendHeader() {
      if (headerSent || finished) return;
      headerSent = true;
      call.sendMetadata(responseHeader);
    },
    timeRemainingMs() {
      return deadline === undefined ? undefined : Math.max(0, deadline - Date.now());
    },
  };
  return {
    context,
    get finished() {
      return finished;
    },
    finish() {
      if (finished) return;
      finished = true;
      if (timer !== undefined) clearTimeout(timer);
      call.off("cancelled", onCancelled);
      release?.();
    },
    errorTrailers() {
      if (headerSent) return responseTrailer;
      const md = responseHeader.clone();
      mergeMetadata(md, responseTrailer);
      return md;
    },
  };
}

function toEpochMs(deadline: Date | number): number | undefined {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? ms : undefined;
}
