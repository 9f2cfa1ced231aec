import type { ClientDuplexStream, ClientReadableStream, Metadata, StatusObject } from "@grpc/grpc-js";
import type { StartedCall } from "./call-setup.js";
import { observeCall, type AttemptContext } from "./client-attempts.js";
import { abortedError, firstAborted, sleep } from "./deadline.js";
import { GrpcError, Status, grpcErrorFromServiceError } from "./grpc-error.js";
import type { CallResult } from "./hooks.js";
import type { RetryController } from "./retry.js";
import { readMessages } from "./streams.js";

type ResponseCall = ClientReadableStream<unknown> | ClientDuplexStream<unknown, unknown>;

/** What a response iterator needs. */
export interface ResponseIteratorInit {
  readonly started: StartedCall;
  readonly controller: RetryController;
  readonly ctx: Pick<AttemptContext, "hooks" | "observers">;
  /** Start one attempt of the call. */
  readonly open: () => ResponseCall;
  /** Aborts when sending the requests failed (bidi): the iteration throws its reason, without retrying. */
  readonly requestFailure?: AbortSignal;
  /** Whether the call committed for a reason of the request side (bidi: the retry buffer overflowed). */
  readonly requestsCommitted?: () => boolean;
  /** Called once when the call is over (bidi: release the retry buffer). */
  readonly release?: () => void;
}

/**
 * The responses of a server-streaming or bidi call. A failed attempt is
 * retried (per the controller's policy) only while the response has not
 * started: once headers or a message arrived the call is committed, so a
 * stream is never replayed half-way. Leaving the loop early cancels the call.
 * `onTrailer` gets the final attempt's trailers, once.
 */
export function createResponseIterator<T>(init: ResponseIteratorInit): AsyncIterator<T> {
  const { started, controller, ctx } = init;
  let call: ResponseCall | undefined;
  let inner: AsyncIterator<T> | undefined;
  let committed = false;
  let done = false;
  let trailer: Metadata | undefined;
  const finish = () => {
    done = true;
    init.release?.();
  };

  const openAttempt = (backoffMs: number, previous?: CallResult) => {
    controller.begin(backoffMs, previous);
    const c = init.open();
    call = c;
    observeCall(c, ctx, () => (committed = true));
    c.on("status", (s: StatusObject) => {
      if (call === c) trailer = s.metadata;
    });
    started.link(() => c.cancel());
    inner = readMessages<T>(c, { signal: init.requestFailure })[Symbol.asyncIterator]();
  };

  /** After a failed attempt: retry (true) or give up with the error to throw. */
  const recover = async (err: unknown): Promise<true | GrpcError> => {
    call?.cancel();
    const aborted = firstAborted(started.signals);
    if (aborted) return abortedError(aborted);
    if (init.requestFailure?.aborted) return grpcErrorFromServiceError(init.requestFailure.reason);
    const error = grpcErrorFromServiceError(err);
    const delay = controller.retryDelay(error, committed || (init.requestsCommitted?.() ?? false));
    if (delay === undefined) return error;
    try {
      await sleep(delay, started.signals);
    } catch (sleepErr) {
      return grpcErrorFromServiceError(sleepErr);
    }
    openAttempt(delay, { code: error.code, message: error.rawMessage, error });
    return true;
  };

  return {
    async next() {
      if (done) return { done: true, value: undefined };
      if (inner === undefined) openAttempt(0);
      for (;;) {
        try {
          const result = await inner!.next();
          if (result.done) {
            finish();
            controller.succeeded();
            started.succeed(trailer);
          } else {
            committed = true;
            started.hooks.response(result.value);
          }
          return result;
        } catch (err) {
          const outcome = await recover(err);
          if (outcome === true) continue;
          finish();
          throw started.fail(outcome);
        }
      }
    },
    async return() {
      if (!done) {
        finish();
        // grpc-js emits the CANCELLED status as an "error" event after inner.return() detached
        // the iterator's listener: without this one it would be an uncaught exception.
        call?.on("error", () => {});
        call?.cancel();
        started.fail(new GrpcError(Status.CANCELLED, "the caller stopped reading the response stream"));
      }
      await inner?.return?.();
      return { done: true, value: undefined };
    },
  };
}

/** An iterator that fails with `error` at once. */
export function failingIterator<T>(error: unknown): AsyncIterator<T> {
  return {
    next: () => Promise.reject(error),
    return: async () => ({ done: true, value: undefined }),
  };
}
