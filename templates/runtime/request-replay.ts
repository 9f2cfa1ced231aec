import { create, type DescMessage } from "@bufbuild/protobuf";
import type { ComposedClientHooks } from "./hooks.js";

/**
 * The request side of client-streaming and bidi calls, with the retry buffer
 * of gRFC A6: the caller's request iterable is pulled once per message, each
 * message is serialized once, and while the call may still be retried the
 * serialized messages are kept so that a new attempt can replay them before
 * it continues pulling. Once the kept bytes exceed the per-call limit the
 * call commits to its current attempt (no more retries), as grpc-js does
 * with `grpc.per_rpc_retry_buffer_size`.
 */

/** Default per-call retry buffer in bytes: 256 KiB, grpc-js's default `grpc.per_rpc_retry_buffer_size`. */
export const defaultRetryBufferBytes = 256 * 1024;

/** The gRPC message frame header (compressed flag, 4-byte length) counted with each kept message. */
const messageFrameBytes = 5;

/** What a RequestReplay needs. */
export interface RequestReplayInit {
  readonly schema: DescMessage;
  /** The method's request serializer (protobuf binary). */
  readonly serialize: (message: unknown) => Buffer;
  /** The call's hooks: `request` runs once per message, when it is pulled (a throw fails the call). */
  readonly hooks: ComposedClientHooks;
  /**
   * Bytes of serialized requests kept for replay, each counted with its
   * 5-byte message frame header; exceeding it commits the call. `undefined`: keep nothing (the method is not retried by policy).
   */
  readonly keepBytes: number | undefined;
}

type Source = AsyncIterable<unknown> | Iterable<unknown>;

/** The caller's requests of one call, pulled once and kept for replay while the call can be retried. */
export class RequestReplay {
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  private pulled = 0;
  private pending: Promise<Buffer | null> | undefined;
  private iterator: AsyncIterator<unknown> | Iterator<unknown> | undefined;
  private done = false;
  private closed = false;
  private failure: { readonly error: unknown } | undefined;
  /** True once the kept requests exceeded the limit (or nothing may be kept): the call is committed to its current attempt. */
  overflowed: boolean;

  constructor(
    private readonly source: Source,
    private readonly init: RequestReplayInit,
  ) {
    this.overflowed = init.keepBytes === undefined;
  }

  /** True once pulling a request failed (the iterable threw, or a request hook rejected a message). */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * The serialized request number `index` (0-based), or null after the
   * last one. A kept request is returned again (replay); otherwise the
   * caller's iterable is pulled, and concurrent calls for the same index
   * share that one pull.
   *
   * @throws what the iterable, `create` or a request hook threw (also to later calls).
   */
  get(index: number): Promise<Buffer | null> {
    if (index < this.kept.length) return Promise.resolve(this.kept[index]!);
    if (this.failure !== undefined) return Promise.reject(this.failure.error);
    if (index < this.pulled) return Promise.reject(new Error(`request ${index} is no longer kept for replay`));
    if (this.done || this.closed) return Promise.resolve(null);
    this.pending ??= this.pull();
    return this.pending;
  }

  /** The call is over: drop the kept requests and close the caller's iterable if it is not exhausted. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.kept.length = 0;
    if (this.done || this.failure !== undefined || this.iterator === undefined) return;
    try {
      const r = this.iterator.return?.();
      if (r instanceof Promise) r.catch(() => {});
    } catch {
      // the caller's iterable failed while closing: nothing left to report it to
    }
  }

  private async pull(): Promise<Buffer | null> {
    try {
      this.iterator ??= openIterator(this.source);
      const r = await this.iterator.next();
      if (r.done) {
        this.done = true;
        return null;
      }
      const message = create(this.init.schema, r.value as never);
      this.init.hooks.request(message);
      const bytes = this.init.serialize(message);
      this.pulled++;
      if (!this.overflowed) {
        this.kept.push(bytes);
        this.keptBytes += bytes.length + messageFrameBytes; // as on the wire: an empty message still costs its frame
        if (this.keptBytes > this.init.keepBytes!) this.overflowed = true;
      }
      return bytes;
    } catch (error) {
      this.failure = { error };
      throw error;
    } finally {
      this.pending = undefined;
    }
  }
}

function openIterator(source: Source): AsyncIterator<unknown> | Iterator<unknown> {
  if (Symbol.asyncIterator in source) return source[Symbol.asyncIterator]();
  return source[Symbol.iterator]();
}

/** The writable side of a grpc-js client-streaming or bidi call. */
export interface RequestSink {
  write(chunk: unknown): boolean;
  end(): unknown;
  on(event: "drain" | "status", listener: () => void): unknown;
  off(event: "drain" | "status", listener: () => void): unknown;
}

/** Whether one attempt is over (its status arrived). */
export interface AttemptState {
  ended: boolean;
}

/**
 * Send the requests to one attempt: the kept ones first (replay), then new
 * ones as the caller's iterable yields them, with backpressure (waits for
 * `drain`), then half-close. Stops as soon as the attempt is over.
 *
 * @throws what pulling a request threw (see `RequestReplay.get`).
 */
export async function sendRequests(call: RequestSink, replay: RequestReplay, state: AttemptState): Promise<void> {
  for (let i = 0; ; i++) {
    const bytes = await replay.get(i);
    if (state.ended) return;
    if (bytes === null) {
      call.end();
      return;
    }
    if (!call.write(bytes)) await drainedOrEnded(call, state);
  }
}

function drainedOrEnded(call: RequestSink, state: AttemptState): Promise<void> {
  if (state.ended) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      call.off("drain", done);
      call.off("status", done);
      resolve();
    };
    call.on("drain", done);
    call.on("status", done);
  });
}

/** The serializer of attempts that send pre-serialized requests (see RequestReplay). */
export function passThrough(bytes: unknown): Buffer {
  return bytes as Buffer;
}
