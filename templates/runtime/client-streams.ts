import { create, type DescMessage } from "@bufbuild/protobuf";
import type { ClientDuplexStream, ClientReadableStream, ClientWritableStream } from "@grpc/grpc-js";
import type { StartedCall } from "./call-setup.js";
import { observeCall, type AttemptContext } from "./client-attempts.js";
import { abortedError, firstAborted, sleep } from "./deadline.js";
import { GrpcError, Status, grpcErrorFromServiceError } from "./grpc-error.js";
import type { CallResult } from "./hooks.js";
import type { RetryController } from "./retry.js";
import { readMessages, writeMessage } from "./streams.js";

type ResponseCall = ClientReadableStream<unknown> | ClientDuplexStream<unknown, unknown>;

/** What a response iterator needs. */
export interface ResponseIteratorInit {
  readonly started: StartedCall;
  readonly controller: RetryController;
  readonly ctx: Pick<AttemptContext, "hooks" | "observers">;
  /** Start one attempt of the call. */
  readonly open: () => ResponseCall;
  /** Aborts when sending the requests failed (bidi): the iteration throws its reason. */
  readonly requestFailure?: AbortSignal;
}

/**
 * The responses of a server-streaming or bidi call. A failed attempt is
 * retried (per the controller's policy) only while the response has not
 * started: once headers or a message arrived the call is committed, so a
 * stream is never replayed half-way. Leaving the loop early cancels the call.
 */
export function createResponseIterator<T>(init: ResponseIteratorInit): AsyncIterator<T> {
  const { started, controller, ctx } = init;
  let call: ResponseCall | undefined;
  let inner: AsyncIterator<T> | undefined;
  let committed = false;
  let done = false;

  const openAttempt = (backoffMs: number, previous?: CallResult) => {
    controller.begin(backoffMs, previous);
    const c = init.open();
    call = c;
    observeCall(c, ctx, () => (committed = true));
    started.link(() => c.cancel());
    inner = readMessages<T>(c, { signal: init.requestFailure })[Symbol.asyncIterator]();
  };

  /** After a failed attempt: retry (true) or give up with the error to throw. */
  const recover = async (err: unknown): Promise<true | GrpcError> => {
    call?.cancel();
    const aborted = firstAborted(started.signals);
    if (aborted) return abortedError(aborted);
    const error = grpcErrorFromServiceError(err);
    const delay = controller.retryDelay(error, committed);
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
            done = true;
            controller.succeeded();
            started.succeed();
          } else {
            committed = true;
            started.hooks.response(result.value);
          }
          return result;
        } catch (err) {
          const outcome = await recover(err);
          if (outcome === true) continue;
          done = true;
          throw started.fail(outcome);
        }
      }
    },
    async return() {
      if (!done) {
        done = true;
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

/** Send every request of a stream with backpressure, then half-close. Stops pulling once the call is over. */
export async function sendAll(
  call: ClientWritableStream<unknown> | ClientDuplexStream<unknown, unknown>,
  schema: DescMessage,
  requests: AsyncIterable<unknown> | Iterable<unknown>,
  started: StartedCall,
): Promise<void> {
  let ended = false;
  const onStatus = () => (ended = true);
  call.once("status", onStatus);
  try {
    for await (const request of requests) {
      if (ended) return;
      const message = create(schema, request as never);
      started.hooks.request(message);
      await writeMessage(call, message, undefined);
    }
    if (!ended) call.end();
  } finally {
    call.off("status", onStatus);
  }
}

/** An iterator that fails with `error` at once. */
export function failingIterator<T>(error: unknown): AsyncIterator<T> {
  return {
    next: () => Promise.reject(error),
    return: async () => ({ done: true, value: undefined }),
  };
}
