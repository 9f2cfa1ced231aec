import type { Readable, Writable } from "node:stream";

/**
 * Options of {@link readMessages}.
 */
export interface ReadMessagesOptions {
  /** Stop with `signal.reason` when this aborts. */
  readonly signal?: AbortSignal;
  /** Convert a stream error into the error the consumer sees. */
  readonly mapError?: (err: unknown) => unknown;
  /**
   * Messages buffered before the stream is paused (backpressure: grpc-js then
   * stops reading, and HTTP/2 flow control stops the peer). Default 16.
   */
  readonly highWaterMark?: number;
  /**
   * Deliver the end of the stream one event-loop turn (`setImmediate`) after
   * it arrived, so that an abort of `signal` in between wins: the consumer's
   * loop then throws `signal.reason` instead of ending normally. A server
   * needs it: a grpc-js client cancels with Node's `Http2Stream.close()`,
   * which sends END_STREAM just before RST_STREAM, so the request stream
   * "ends" right before the call is cancelled. Caveat: the two frames can
   * arrive in separate socket reads (on loopback, Node writes RST_STREAM
   * 0.3-1.5 ms after END_STREAM when a client closes a stream it had not
   * half-closed, e.g. because its request iterable threw); the end is then
   * delivered first, and a handler that returns within that window answers
   * OK to a call its client has already given up on. Default false.
   */
  readonly confirmEnd?: boolean;
}

/**
 * Read the messages of a grpc-js object-mode stream as an AsyncIterable, with
 * backpressure: the stream is paused while `highWaterMark` messages wait to
 * be consumed. Leaving the loop early (`break`, `return`, a throw) detaches
 * from the stream without destroying it: the caller decides what that means
 * for the call (a client cancels it; a server just stops reading).
 *
 * The iterator follows the async-iterator protocol as an async generator
 * does: `return()` and `throw(error)` detach, drop what is queued and settle
 * every pending `next()` with `done` (`throw` then rejects with `error`);
 * concurrent `next()` calls get the messages in order; a stream error (or
 * `signal.reason`) rejects one `next()`, and every later one is `done`.
 */
export function readMessages<T>(stream: Readable, options: ReadMessagesOptions = {}): AsyncIterable<T> {
  return { [Symbol.asyncIterator]: () => messageIterator<T>(stream, options) };
}

const doneResult: IteratorResult<never> = Object.freeze({ done: true, value: undefined });

function messageIterator<T>(stream: Readable, options: ReadMessagesOptions): AsyncIterator<T> {
  const highWaterMark = options.highWaterMark ?? 16;
  const queue: T[] = [];
  let ended = false;
  let closed = false;
  let failure: { error: unknown } | undefined;
  let arrival: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    arrival = undefined;
    w?.();
  };
  const onData = (msg: T) => {
    queue.push(msg);
    if (queue.length >= highWaterMark) stream.pause();
    notify();
  };
  const markEnded = () => {
    ended = true;
    notify();
  };
  const onEnd = options.confirmEnd === true ? () => void setImmediate(markEnded) : markEnded;
  const onError = (error: unknown) => {
    failure ??= { error: options.mapError ? options.mapError(error) : error };
    notify();
  };
  const onAbort = () => onError(options.signal?.reason);
  /** Detach from the stream and the signal, drop the queue, and let every pending next() see `done`. */
  const close = () => {
    if (closed) return;
    closed = true;
    stream.off("data", onData);
    stream.off("end", onEnd);
    stream.off("error", onError);
    options.signal?.removeEventListener("abort", onAbort);
    queue.length = 0;
    notify();
  };
  stream.on("data", onData);
  stream.on("end", onEnd);
  stream.on("error", onError);
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener("abort", onAbort, { once: true });

  return {
    async next(): Promise<IteratorResult<T>> {
      for (;;) {
        if (closed) return doneResult;
        if (failure !== undefined) {
          close();
          throw failure.error;
        }
        if (queue.length > 0) {
          const value = queue.shift() as T;
          if (queue.length < highWaterMark && stream.isPaused() && !ended) stream.resume();
          return { done: false, value };
        }
        if (ended) {
          close();
          return doneResult;
        }
        await (arrival ??= new Promise<void>((resolve) => (wake = resolve)));
      }
    },
    async return(): Promise<IteratorResult<T>> {
      close();
      return doneResult;
    },
    async throw(error?: unknown): Promise<IteratorResult<T>> {
      close();
      throw error;
    },
  };
}

/**
 * Write one message, waiting for `drain` when the stream's buffer is full
 * (backpressure). Rejects with `signal.reason` if the signal aborts while
 * waiting, and with `closedError()` if the stream closes first.
 */
export async function writeMessage(stream: Writable, message: unknown, signal: AbortSignal | undefined): Promise<void> {
  if (stream.write(message)) return;
  await drained(stream, signal);
}

/**
 * `writeMessage` without a promise per message: undefined when the stream
 * took the message, else a promise of the `drain` (`holder.signal` is read
 * only then, so a lazily created signal stays uncreated). @internal For the server runtime.
 */
export function writeOrDrain(stream: Writable, message: unknown, holder: { readonly signal: AbortSignal }): Promise<void> | undefined {
  return stream.write(message) ? undefined : drained(stream, holder.signal);
}

/** Resolves on `drain` or `close`; rejects with `signal.reason` if the signal aborts first. */
function drained(stream: Writable, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cleanup = () => {
      stream.off("drain", onDrain);
      stream.off("close", onClose);
      signal?.removeEventListener("abort", onAbort);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onClose = () => {
      cleanup();
      resolve();
    };
    const onAbort = () => {
      cleanup();
      reject(signal?.reason);
    };
    stream.on("drain", onDrain);
    stream.on("close", onClose);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
  });
}
