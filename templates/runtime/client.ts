import type { DescMessage, DescMethod, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import {
  Client,
  credentials as grpcCredentials,
  type Channel,
  type ChannelCredentials,
  type ClientDuplexStream,
  type ClientOptions as GrpcClientOptions,
  type ClientReadableStream,
  type ClientWritableStream,
  type Metadata,
  type StatusObject,
} from "@grpc/grpc-js";
import { methodDefinition } from "./definition.js";
import { GrpcError, Status, grpcErrorFromServiceError } from "./grpc-error.js";
import { toMetadata, type MetadataInit } from "./metadata.js";
import { readMessages, writeMessage } from "./streams.js";
import { startClientHooks, type ClientHook, type ComposedClientHooks } from "./hooks.js";

/**
 * Options of one call.
 */
export interface CallOptions {
  /** Absolute deadline: a Date, or milliseconds since the Unix epoch. Sent as `grpc-timeout`. */
  readonly deadline?: Date | number;
  /** Timeout in milliseconds from the start of the call. With `deadline` too, the earlier wins. */
  readonly timeoutMs?: number;
  /** Request metadata (headers). */
  readonly metadata?: MetadataInit;
  /** Aborting cancels the call: it rejects (or its stream throws) with CANCELLED. */
  readonly signal?: AbortSignal;
  /** Called with the response headers when they arrive. */
  readonly onHeader?: (header: Metadata) => void;
  /** Called with the trailers when the call ends, successfully or not. */
  readonly onTrailer?: (trailer: Metadata) => void;
}

/**
 * Options of a client: grpc-js client and channel options (`interceptors`,
 * `grpc.keepalive_time_ms`, `grpc.max_receive_message_length`, ...), plus
 * the runtime's own.
 */
export type ClientOptions = GrpcClientOptions & {
  /** Hooks run for every call, first = outermost (see `ClientHook`). Default: none. */
  readonly hooks?: readonly ClientHook[];
};

/** A method of a generated service, with its message types. */
type Method<I extends DescMessage, O extends DescMessage> = DescMethod & { input: I; output: O };

/** Requests a client-streaming or bidi call sends: an async or sync iterable of messages or init objects. */
export type RequestStream<I extends DescMessage> = AsyncIterable<MessageInitShape<I>> | Iterable<MessageInitShape<I>>;

/**
 * The runtime behind a generated client class: one grpc-js Client (one
 * channel) and one function per method kind.
 */
export class ClientTransport {
  /** The underlying grpc-js client. */
  readonly grpcClient: Client;
  /** The hooks every call runs. */
  readonly hooks: readonly ClientHook[];

  /**
   * @param target - an address (`host:port`, `dns:///host:port`, `unix:/path`, ...) or an existing grpc-js Channel
   * @param credentials - channel credentials; ignored when `target` is a Channel
   */
  constructor(target: string | Channel, credentials?: ChannelCredentials, clientOptions: ClientOptions = {}) {
    const { hooks, ...options } = clientOptions;
    this.hooks = hooks ?? [];
    if (typeof target === "string") {
      if (credentials === undefined) throw new TypeError("a client needs channel credentials, e.g. credentials.createInsecure()");
      this.grpcClient = new Client(target, credentials, options);
    } else {
      this.grpcClient = new Client("channel-override", grpcCredentials.createInsecure(), { ...options, channelOverride: target });
    }
  }

  /** Unary call: resolves with the response, rejects with a GrpcError. */
  unary<I extends DescMessage, O extends DescMessage>(
    method: Method<I, O>,
    request: MessageInitShape<I>,
    options: CallOptions = {},
  ): Promise<MessageShape<O>> {
    const def = methodDefinition(method);
    return new Promise((resolve, reject) => {
      const started = startCall(method, options, this.hooks);
      const message = started.prepare(method.input, request);
      if (started.error) return reject(started.fail(started.error));
      const call = this.grpcClient.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        message,
        started.metadata,
        { deadline: started.deadline },
        (err, response) => {
          if (err) return reject(started.fail(err));
          try {
            started.hooks.response(response);
          } catch (hookErr) {
            return reject(started.fail(hookErr));
          }
          started.succeed();
          resolve(response as MessageShape<O>);
        },
      );
      observe(call, options, started.hooks);
      started.link(() => call.cancel());
    });
  }

  /**
   * Server-streaming call: an AsyncIterable of responses. The call starts when
   * iteration starts; leaving the loop early cancels it. Errors are thrown as
   * GrpcError by the iteration.
   */
  serverStream<I extends DescMessage, O extends DescMessage>(
    method: Method<I, O>,
    request: MessageInitShape<I>,
    options: CallOptions = {},
  ): AsyncIterable<MessageShape<O>> {
    const def = methodDefinition(method);
    const client = this.grpcClient;
    const hooks = this.hooks;
    return {
      [Symbol.asyncIterator]() {
        const started = startCall(method, options, hooks);
        const message = started.prepare(method.input, request);
        if (started.error) return failingIterator(started.fail(started.error));
        const call = client.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, message, started.metadata, {
          deadline: started.deadline,
        });
        return responseIterator<MessageShape<O>>(call, options, started);
      },
    };
  }

  /** Client-streaming call: sends every request (with backpressure), resolves with the one response. */
  clientStream<I extends DescMessage, O extends DescMessage>(
    method: Method<I, O>,
    requests: RequestStream<I>,
    options: CallOptions = {},
  ): Promise<MessageShape<O>> {
    const def = methodDefinition(method);
    return new Promise((resolve, reject) => {
      const started = startCall(method, options, this.hooks);
      if (started.error) return reject(started.fail(started.error));
      let requestError: unknown;
      const call = this.grpcClient.makeClientStreamRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        started.metadata,
        { deadline: started.deadline },
        (err, response) => {
          if (requestError !== undefined) return reject(started.fail(requestError));
          if (err) return reject(started.fail(err));
          try {
            started.hooks.response(response);
          } catch (hookErr) {
            return reject(started.fail(hookErr));
          }
          started.succeed();
          resolve(response as MessageShape<O>);
        },
      );
      observe(call, options, started.hooks);
      started.link(() => call.cancel());
      sendAll(call, method.input, requests, started).catch((err: unknown) => {
        requestError = err;
        call.cancel();
      });
    });
  }

  /**
   * Bidi call: sends the requests in the background (with backpressure) and
   * returns an AsyncIterable of responses. The call starts when iteration
   * starts; leaving the loop early cancels it. If the request iterable
   * throws, the call is cancelled and the iteration throws that error.
   */
  bidiStream<I extends DescMessage, O extends DescMessage>(
    method: Method<I, O>,
    requests: RequestStream<I>,
    options: CallOptions = {},
  ): AsyncIterable<MessageShape<O>> {
    const def = methodDefinition(method);
    const client = this.grpcClient;
    const hooks = this.hooks;
    return {
      [Symbol.asyncIterator]() {
        const started = startCall(method, options, hooks);
        if (started.error) return failingIterator(started.fail(started.error));
        const call = client.makeBidiStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, started.metadata, {
          deadline: started.deadline,
        });
        const requestFailure = new AbortController();
        sendAll(call, method.input, requests, started).catch((err: unknown) => {
          requestFailure.abort(err);
          call.cancel();
        });
        return responseIterator<MessageShape<O>>(call, options, started, requestFailure.signal);
      },
    };
  }

  /** Close the channel; calls in flight continue, new calls fail. */
  close(): void {
    this.grpcClient.close();
  }
}

/**
 * Create the transport of a generated client from its constructor's
 * arguments: `(address, credentials, options?)` or `(channel, options?)`.
 */
export function createClientTransport(
  target: string | Channel,
  credentialsOrOptions?: ChannelCredentials | ClientOptions,
  options?: ClientOptions,
): ClientTransport {
  if (typeof target === "string") {
    return new ClientTransport(target, credentialsOrOptions as ChannelCredentials, options);
  }
  return new ClientTransport(target, undefined, credentialsOrOptions as ClientOptions | undefined);
}

/** One client call's set-up: metadata, deadline, cancellation and hooks. */
interface StartedCall {
  /** Set when the call must fail before it starts (already aborted, a request hook threw). */
  error?: unknown;
  readonly metadata: Metadata;
  /** Absolute deadline, ms since the Unix epoch; Infinity for none. */
  readonly deadline: number;
  readonly hooks: ComposedClientHooks;
  /** Create the request message and run the request hooks; a failure is kept in `error`. */
  prepare(schema: DescMessage, init: unknown): unknown;
  /** Cancel the call when any of the call's signals aborts. */
  link(cancel: () => void): void;
  /** The call succeeded: end hooks, remove listeners. */
  succeed(): void;
  /** The call failed: convert to GrpcError, end hooks, remove listeners. Returns the error to surface. */
  fail(err: unknown): GrpcError;
}

function startCall(method: DescMethod, options: CallOptions, hookList: readonly ClientHook[]): StartedCall {
  const start = { method, metadata: toMetadata(options.metadata), deadline: resolveDeadline(options), signals: [] as AbortSignal[] };
  if (options.signal) start.signals.push(options.signal);
  const hooks = startClientHooks(hookList, start);
  const signals = start.signals;
  let onAbort: (() => void) | undefined;
  const cleanup = () => {
    if (onAbort !== undefined) for (const s of signals) s.removeEventListener("abort", onAbort);
    onAbort = undefined;
  };
  const aborted = signals.find((s) => s.aborted);
  const started: StartedCall = {
    error: aborted ? new GrpcError(Status.CANCELLED, "call cancelled before it started", { cause: aborted.reason }) : undefined,
    metadata: start.metadata,
    deadline: start.deadline,
    hooks,
    prepare(schema, init) {
      try {
        const message = create(schema, init as never);
        hooks.request(message);
        return message;
      } catch (err) {
        started.error ??= err;
        return undefined;
      }
    },
    link(cancel) {
      if (signals.length === 0) return;
      onAbort = cancel;
      for (const s of signals) s.addEventListener("abort", onAbort, { once: true });
    },
    succeed() {
      cleanup();
      hooks.end({ code: Status.OK, message: "" });
    },
    fail(err) {
      cleanup();
      const error = grpcErrorFromServiceError(err);
      hooks.end({ code: error.code, message: error.rawMessage, error });
      return error;
    },
  };
  return started;
}

/**
 * The call's absolute deadline in milliseconds since the Unix epoch
 * (`Infinity` when there is none): the earlier of `deadline` and
 * `now + timeoutMs`.
 */
export function resolveDeadline(options: Pick<CallOptions, "deadline" | "timeoutMs">): number {
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

function observe(
  call: { on(event: "metadata", l: (m: Metadata) => void): unknown; on(event: "status", l: (s: StatusObject) => void): unknown },
  options: CallOptions,
  hooks: ComposedClientHooks,
): void {
  call.on("metadata", (header) => {
    hooks.header(header);
    options.onHeader?.(header);
  });
  const onTrailer = options.onTrailer;
  if (onTrailer) call.on("status", (s) => onTrailer(s.metadata));
}

function responseIterator<T>(
  call: ClientReadableStream<unknown> | ClientDuplexStream<unknown, unknown>,
  options: CallOptions,
  started: StartedCall,
  requestFailure?: AbortSignal,
): AsyncIterator<T> {
  observe(call, options, started.hooks);
  started.link(() => call.cancel());
  const inner = readMessages<T>(call, { signal: requestFailure })[Symbol.asyncIterator]();
  let done = false;
  return {
    async next() {
      if (done) return { done: true, value: undefined };
      try {
        const result = await inner.next();
        if (result.done) {
          done = true;
          started.succeed();
        } else {
          started.hooks.response(result.value);
        }
        return result;
      } catch (err) {
        done = true;
        call.cancel();
        throw started.fail(err);
      }
    },
    async return() {
      if (!done) {
        done = true;
        call.cancel();
        started.fail(new GrpcError(Status.CANCELLED, "the caller stopped reading the response stream"));
      }
      await inner.return?.();
      return { done: true, value: undefined };
    },
  };
}

/** Send every request of a stream with backpressure, then half-close. Stops pulling once the call is over. */
async function sendAll(
  call: ClientWritableStream<unknown> | ClientDuplexStream<unknown, unknown>,
  schema: DescMessage,
  requests: RequestStream<DescMessage>,
  started: StartedCall,
): Promise<void> {
  let ended = false;
  const onStatus = () => (ended = true);
  call.once("status", onStatus);
  try {
    for await (const request of requests) {
      if (ended) return;
      const message = create(schema, request);
      started.hooks.request(message);
      await writeMessage(call, message, undefined);
    }
    if (!ended) call.end();
  } finally {
    call.off("status", onStatus);
  }
}

function failingIterator<T>(error: unknown): AsyncIterator<T> {
  return {
    next: () => Promise.reject(error),
    return: async () => ({ done: true, value: undefined }),
  };
}
