import type { CallConsumer, CallEngine } from "./call-engine.js";
import { Status, grpcErrorFromServiceError, type GrpcError } from "./grpc-error.js";
import type { ComposedClientHooks } from "./hooks.js";

/** Messages queued before the committed attempt is paused (HTTP/2 flow control then stops the server). */
const highWaterMark = 16;

/**
 * The consumer side of a server-streaming or bidi call: an async iterator
 * over the messages of the attempt the engine committed to. Every message
 * received before the status is delivered before the error. `return()` and
 * `throw()` end the call (CANCELLED for the hooks; no attempt starts after
 * that) and settle every pending `next()` with `done`. Concurrent `next()`
 * calls each get one result, in order; after the end (or the error, which
 * one `next()` gets) every `next()` is `done`.
 *
 * @internal
 */
export class ResponseQueue<T> implements CallConsumer, AsyncIterator<T> {
  private readonly queue: T[] = [];
  private outcome: { error: GrpcError | undefined } | undefined;
  /** Pending next() calls, oldest first (concurrent reads each get one result, in order). */
  private readonly waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }[] = [];
  private left = false;
  private engine: CallEngine | undefined;
  private paused = false;

  constructor(
    private readonly hooks: ComposedClientHooks,
    private readonly begin: (consumer: ResponseQueue<T>) => CallEngine,
  ) {}

  /**
   * A message of the committed attempt: through the response hooks now, as it
   * arrives (so that telemetry sees every message before the call's end,
   * whenever the caller reads it), then queued. A hook that throws ends the
   * call with that error, delivered after the messages queued before.
   */
  message(message: unknown): void {
    try {
      this.hooks.response(message);
    } catch (err) {
      this.engine?.cancel(err);
      return;
    }
    this.queue.push(message as T);
    if (this.queue.length >= highWaterMark && !this.paused) {
      this.paused = true;
      this.engine?.pause();
    }
    this.wake();
  }

  end(error: GrpcError | undefined): void {
    this.outcome = { error };
    this.wake();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.engine === undefined && !this.left) {
      this.engine = this.begin(this);
      this.engine.start();
    }
    if (this.waiting.length === 0) {
      const r = this.take();
      if (r !== undefined) return r;
    }
    return new Promise((resolve, reject) => void this.waiting.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.leave(new Error("the caller stopped reading the response stream"));
    return Promise.resolve({ done: true, value: undefined });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.leave(error);
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this;
  }

  /** The consumer let go: end the call as CANCELLED (hooks see `cause`), drop what is queued, settle a pending next(). */
  private leave(cause: unknown): void {
    if (this.left) return;
    this.left = true;
    this.queue.length = 0;
    this.engine ??= this.begin(this); // left before the first next(): the hooks started with the iterator still end, nothing is sent
    this.engine.cancel(grpcErrorFromServiceError({ code: Status.CANCELLED, details: "the caller stopped reading the response stream", cause }, "local"));
    for (const w of this.waiting.splice(0)) w.resolve({ done: true, value: undefined });
  }

  /** The next result if one is ready: a message, then the end (done or the error). */
  private take(): Promise<IteratorResult<T>> | undefined {
    if (this.left) return Promise.resolve({ done: true, value: undefined });
    if (this.queue.length > 0) {
      const value = this.queue.shift() as T;
      if (this.paused && this.queue.length < highWaterMark / 2) {
        this.paused = false;
        this.engine?.resume();
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.outcome === undefined) return undefined;
    this.left = true;
    if (this.outcome.error !== undefined) return Promise.reject(this.outcome.error);
    return Promise.resolve({ done: true, value: undefined });
  }

  /** Settle pending next() calls, oldest first, while results are ready. */
  private wake(): void {
    while (this.waiting.length > 0) {
      // Taken out first, so that wake() stays correct if take() ever re-enters it.
      const w = this.waiting.shift() as (typeof this.waiting)[number];
      const r = this.take();
      if (r === undefined) {
        this.waiting.unshift(w);
        return;
      }
      r.then(w.resolve, w.reject);
    }
  }
}

/** An iterator that fails with `error` at its first `next()`. */
export function failingIterator<T>(error: unknown): AsyncIterator<T> {
  let failed = false;
  return {
    next: () => {
      if (failed) return Promise.resolve({ done: true, value: undefined });
      failed = true;
      return Promise.reject(error);
    },
    return: async () => ({ done: true, value: undefined }),
    throw: async (e?: unknown) => Promise.reject(e),
  };
}
