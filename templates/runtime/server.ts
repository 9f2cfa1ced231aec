import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import type {
  Server,
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
  UntypedHandleCall,
  UntypedServiceImplementation,
  sendUnaryData,
} from "@grpc/grpc-js";
import { Metadata } from "@grpc/grpc-js";
import { methodDefinition, methodPath, serverServiceDefinition } from "./definition.js";
import { GrpcError, Status, type StatusObject } from "./grpc-error.js";
import { ServerCall, type HandlerContext, type ServedMethod, type StreamResponses, type SurfaceCall } from "./server-context.js";
import { noServerHooks, startServerHooks, type CallResult, type ComposedServerHooks, type ServerHook } from "./hooks.js";
import { serverHooksOf, type ServiceRuntimeConfig } from "./service-config.js";
import { runInCallContext } from "./propagation.js";
import { readMessages, writeOrDrain } from "./streams.js";
import { recordService, serverStateOf } from "./server-registry.js";
import { maxSendMessageBytes, methodLimits, type ServerLimitOptions } from "./server-limits.js";
import { authenticationStep, type ServerAuthOptions } from "./server-auth.js";
import { failureStatus, reportSafely, withoutStatusKeys } from "./server-errors.js";

/**
 * Options for registering a service implementation: hooks and validation,
 * authentication (`authenticate`, see server-auth.ts) and limits
 * (`maxConcurrentCalls`, `maxConcurrentCallsPerMethod`, `overloadPushbackMs`,
 * `maxTimeoutMs`, see server-limits.ts).
 */
export interface ServerOptions extends ServerAuthOptions, ServerLimitOptions {
  /**
   * Called with every error a handler throws that is not a GrpcError, or is
   * a GrpcError of origin `"local"` (a client call made by the handler failed
   * in this process: a hook, call credentials or interceptor threw, the
   * client was closed). The client receives INTERNAL with the generic message
   * "internal error" (nothing of the error's text or stack goes on the wire).
   * Default: log the error with `console.error`, naming the method.
   */
  readonly onInternalError?: (error: unknown, path: string) => void;
  /** Hooks run for every call, first = outermost (see `ServerHook`), after telemetry and before validation. Default: none. */
  readonly hooks?: readonly ServerHook[];
  /**
   * Validate every request message with the service's generated buf.validate
   * validators before the handler sees it (INVALID_ARGUMENT with a
   * google.rpc.BadRequest detail). Default true; only services whose request
   * types have rules validate at all.
   */
  readonly validateRequests?: boolean;
}

type AnyHandler = (...args: never[]) => unknown;
type Report = (error: unknown, path: string) => void;
type AuthStep = ((ctx: HandlerContext) => Promise<void>) | undefined;
type GrpcStream = ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>;
type Settle = (status: StatusObject & { message: string }) => void;

/** What every call of one registered method shares: built once, so a call allocates no closures of its own. */
interface MethodRuntime extends ServedMethod {
  readonly fn: AnyHandler;
  readonly hooks: readonly ServerHook[];
  readonly auth: AuthStep;
  readonly report: Report;
  /** The response serializer (protobuf binary): responses are serialized here, not by grpc-js (see `serverServiceDefinition`). */
  readonly serialize: (message: unknown) => Buffer;
  /** The server's `grpc.max_send_message_length` in bytes, -1 for none. */
  readonly maxSendBytes: number;
  /** Streaming methods: start the handler, returning its responses. */
  readonly open?: (c: ServedCall, call: GrpcStream) => StreamResponses<unknown>;
}

/** One call being served: the handler's context, plus its hooks and its method's runtime. */
class ServedCall extends ServerCall {
  readonly hooks: ComposedServerHooks;
  /** What a hook threw when the call started: the call fails with it (see `fail`) and the handler never runs. */
  readonly startFailure: { readonly error: unknown } | undefined;

  constructor(call: SurfaceCall, runtime: MethodRuntime) {
    super(call, runtime);
    let hooks = noServerHooks;
    try {
      hooks = startServerHooks(runtime.hooks, runtime.method, this);
    } catch (error) {
      this.startFailure = { error };
    }
    this.hooks = hooks;
  }

  get runtime(): MethodRuntime {
    return this.served as MethodRuntime;
  }
}

/** How the call ended on success (shared: no allocation per call). */
const okResult = Object.freeze({ code: Status.OK, message: "" });

/**
 * Register an implementation of a service on a grpc-js Server. For each
 * method of `service`, `impl[method.localName]` serves it; a method the
 * implementation leaves out answers UNIMPLEMENTED. Generated
 * `add<Service>` / `addPartial<Service>` functions call this with the right
 * types and the service's `<Service>RuntimeConfig` (telemetry and validation
 * hooks: telemetry outermost, then `options.hooks`, then validation).
 *
 * @throws TypeError if `impl` has a property of a method's name that is not a function.
 */
export function addServiceImplementation(
  server: Server,
  service: DescService,
  impl: object,
  options: ServerOptions = {},
  config: ServiceRuntimeConfig = {},
): void {
  const hooks = serverHooksOf(config, options);
  const handlers: UntypedServiceImplementation = Object.create(null); // no prototype: an rpc named __proto__ is a key like any other
  for (const method of service.methods) {
    const fn = implementationOf(impl, method.localName);
    if (fn === undefined) {
      handlers[method.name] = unimplementedHandler(method);
      continue;
    }
    if (typeof fn !== "function") {
      throw new TypeError(`${methodPath(method)}: implementation property "${method.localName}" is not a function`);
    }
    handlers[method.name] = createMethodHandler(server, method, (fn as AnyHandler).bind(impl), options, hooks);
  }
  server.addService(serverServiceDefinition(service), handlers);
  recordService(server, service);
}

/**
 * `impl[name]`, the way a class instance or object literal provides it (own or
 * inherited), except what every object inherits from `Object.prototype`: an
 * rpc named `HasOwnProperty` or `__proto__` that the implementation leaves out
 * is left out (UNIMPLEMENTED), not served by `Object.prototype.hasOwnProperty`.
 */
function implementationOf(impl: object, name: string): unknown {
  if (name === "__proto__") return Object.getOwnPropertyDescriptor(impl, name)?.value;
  const fn = (impl as Record<string, unknown>)[name];
  return fn !== undefined && fn === (Object.prototype as unknown as Record<string, unknown>)[name] ? undefined : fn;
}

function createMethodHandler(server: Server, method: DescMethod, fn: AnyHandler, options: ServerOptions, hooks: readonly ServerHook[]): UntypedHandleCall {
  const limits = methodLimits(server, method, options);
  const runtime: MethodRuntime = {
    method,
    path: methodPath(method),
    server: serverStateOf(server),
    release: limits?.release,
    fn,
    hooks,
    auth: authenticationStep(options),
    report: options.onInternalError ?? defaultReport,
    serialize: methodDefinition(method).responseSerialize,
    maxSendBytes: maxSendMessageBytes(server),
    open: method.methodKind === "server_streaming" ? serverStream : method.methodKind === "bidi_streaming" ? bidiStream : undefined,
  };
  const handler = kindHandler(runtime);
  return limits === undefined ? handler : limits.guard(handler);
}

function kindHandler(runtime: MethodRuntime): UntypedHandleCall {
  const authed = runtime.auth !== undefined;
  switch (runtime.method.methodKind) {
    case "unary": {
      const invoke = authed ? authenticatedFirst(unary) : unary;
      return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) =>
        serveOnce(new ServedCall(call, runtime), invoke, call.request, callback);
    }
    case "client_streaming": {
      const invoke = authed ? authenticatedFirst(clientStream) : clientStream;
      return (call: ServerReadableStream<unknown, unknown>, callback: sendUnaryData<unknown>) =>
        serveOnce(new ServedCall(call, runtime), invoke, call, callback);
    }
    case "server_streaming":
    case "bidi_streaming":
      return (call: GrpcStream) => void serveStream(new ServedCall(call, runtime), call);
  }
}

/** `invoke` run once the call is authenticated: built once per method (unary and client-streaming). */
function authenticatedFirst<A>(invoke: (c: ServedCall, arg: A) => unknown): (c: ServedCall, arg: A) => unknown {
  return (c, arg) => (c.runtime.auth as NonNullable<AuthStep>)(c).then(() => invokeIfLive(c, invoke, arg));
}

/** `invoke(c, arg)`, unless the call was cancelled or expired meanwhile (then its abort reason is thrown: the handler never runs). */
function invokeIfLive<A>(c: ServedCall, invoke: (c: ServedCall, arg: A) => unknown, arg: A): unknown {
  const reason = c.abortReason();
  if (reason !== undefined) throw reason;
  return invoke(c, arg);
}

/** Unary: the request through the hooks, then the handler. */
function unary(c: ServedCall, request: unknown): unknown {
  c.hooks.request(request);
  return c.runtime.fn(request as never, c as never);
}

function clientStream(c: ServedCall, call: ServerReadableStream<unknown, unknown>): unknown {
  return c.runtime.fn(requestsOf(c, call) as never, c as never);
}

function serverStream(c: ServedCall, call: GrpcStream): StreamResponses<unknown> {
  const request = (call as ServerWritableStream<unknown, unknown>).request;
  c.hooks.request(request);
  return c.runtime.fn(request as never, c as never) as StreamResponses<unknown>;
}

function bidiStream(c: ServedCall, call: GrpcStream): StreamResponses<unknown> {
  return c.runtime.fn(requestsOf(c, call as ServerDuplexStream<unknown, unknown>) as never, c as never) as StreamResponses<unknown>;
}

/** The responses of a streaming handler that runs once the call is authenticated (an Iterable's are read through `yield*`). */
async function* afterAuth(c: ServedCall, call: GrpcStream): AsyncIterable<unknown> {
  await (c.runtime.auth as NonNullable<AuthStep>)(c);
  const reason = c.abortReason(); // cancelled or expired while authenticating: the handler never runs
  if (reason !== undefined) throw reason;
  yield* (c.runtime.open as NonNullable<MethodRuntime["open"]>)(c, call);
}

/** The request messages of a client-streaming or bidi call, each passed through the hooks. */
function requestsOf(c: ServedCall, call: ServerReadableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>): AsyncIterableIterator<unknown> {
  return new RequestStream(c, call);
}

/**
 * The handler's request stream: {@link readMessages} (its `signal` created
 * at the first read) with each message passed through the hooks. A plain
 * iterator, not an async generator, so that `return()` and `throw()` settle
 * a pending `next()` at once (a generator queues them behind it); a hook
 * that throws fails that `next()`, and later ones are `done`; so is a
 * `next()` after the call finished (a handler that kept `requests`).
 */
class RequestStream implements AsyncIterableIterator<unknown> {
  private messages: AsyncIterator<unknown> | undefined;
  private closed = false;

  constructor(
    private readonly c: ServedCall,
    private readonly call: ServerReadableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>,
  ) {}

  [Symbol.asyncIterator](): AsyncIterableIterator<unknown> {
    return this;
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.closed || this.c.finished) return Promise.resolve(doneResult); // finished: the call is over, nothing more arrives
    // confirmEnd: a cancelled request stream throws CANCELLED instead of ending (grpc-js half-closes, then resets).
    this.messages ??= readMessages(this.call, { signal: this.c.signal, confirmEnd: true })[Symbol.asyncIterator]();
    return this.messages.next().then((r) => this.seen(r));
  }

  return(): Promise<IteratorResult<unknown>> {
    this.close();
    return Promise.resolve(doneResult);
  }

  throw(error?: unknown): Promise<IteratorResult<unknown>> {
    this.close();
    return Promise.reject(error);
  }

  private seen(r: IteratorResult<unknown>): IteratorResult<unknown> {
    if (r.done === true || this.closed) return doneResult;
    try {
      this.c.hooks.request(r.value);
    } catch (err) {
      this.close();
      throw err;
    }
    return r;
  }

  private close(): void {
    this.closed = true;
    void this.messages?.return?.();
  }
}

const doneResult: IteratorResult<unknown> = Object.freeze({ done: true, value: undefined });

/**
 * Run `invoke(c, arg)` as the handler: inside the hooks' `around` (only
 * when a hook has one) and the propagated context.
 */
function callHandler<A, T>(c: ServedCall, invoke: (c: ServedCall, arg: A) => T, arg: A): T {
  if (!c.hooks.wraps) return runInCallContext(c, invoke, arg);
  return runInCallContext(c, (cc: ServedCall, a: A) => cc.hooks.around(() => invoke(cc, a)), arg);
}

/** Unary and client-streaming: one response, or an error, through the callback. Awaits only a handler that returned a promise. */
function serveOnce<A>(c: ServedCall, invoke: (c: ServedCall, arg: A) => unknown, arg: A, callback: sendUnaryData<unknown>): void {
  if (c.startFailure !== undefined) return fail(c, c.startFailure.error, callback as Settle);
  let result: unknown;
  try {
    result = callHandler(c, invoke, arg);
  } catch (err) {
    return fail(c, err, callback as Settle);
  }
  if (isPromiseLike(result)) void settleOnce(c, result, callback);
  else respondOnce(c, result, callback);
}

async function settleOnce(c: ServedCall, pending: PromiseLike<unknown>, callback: sendUnaryData<unknown>): Promise<void> {
  let response: unknown;
  try {
    response = await pending;
  } catch (err) {
    return fail(c, err, callback as Settle);
  }
  respondOnce(c, response, callback);
}

function respondOnce(c: ServedCall, response: unknown, callback: sendUnaryData<unknown>): void {
  const reason = c.abortReason();
  if (reason !== undefined) return endAborted(c, reason);
  let bytes: Buffer;
  try {
    const message = create(c.runtime.method.output, response as never);
    c.hooks.response(message);
    bytes = responseBytes(c, message);
  } catch (err) {
    return fail(c, err, callback as Settle); // a hook refused it, or it cannot be serialized (a field of the wrong type)
  }
  endOk(c);
  callback(null, bytes, c.trailerIfAny);
}

/** Server-streaming and bidi: write every response with backpressure, then the status. */
async function serveStream(c: ServedCall, call: GrpcStream): Promise<void> {
  if (c.startFailure !== undefined) return fail(c, c.startFailure.error, (s) => call.emit("error", s));
  try {
    await callHandler(c, pumpResponses, call);
  } catch (err) {
    return fail(c, err, (s) => call.emit("error", s));
  }
  const reason = c.abortReason();
  if (reason !== undefined) return endAborted(c, reason);
  endOk(c);
  call.end(c.trailerIfAny);
}

/**
 * Write the handler's responses. A synchronous Iterable (an array, a
 * generator) is read with `for...of`: no promise per message, an `await`
 * only when the stream is full. Leaving either loop by a throw calls the
 * iterator's `return()`, so the handler's `finally` blocks run.
 */
async function pumpResponses(c: ServedCall, call: GrpcStream): Promise<void> {
  const responses = c.runtime.auth === undefined ? (c.runtime.open as NonNullable<MethodRuntime["open"]>)(c, call) : afterAuth(c, call);
  if (isSyncOnly(responses)) {
    for (const response of responses) {
      const drain = writeResponse(c, call, response);
      if (drain !== undefined) await drain;
    }
    return;
  }
  for await (const response of responses) {
    const drain = writeResponse(c, call, response);
    if (drain !== undefined) await drain;
  }
}

/** One response: the call must still be live (else its abort reason is thrown); then the hooks, serialization, the header, the write. A promise only when the write must wait for `drain`. */
function writeResponse(c: ServedCall, call: GrpcStream, response: unknown): Promise<void> | undefined {
  const reason = c.abortReason();
  if (reason !== undefined) throw reason;
  const message = create(c.runtime.method.output, response as never);
  c.hooks.response(message);
  const bytes = responseBytes(c, message); // a throw fails the call
  c.flushHeader();
  return writeOrDrain(call, bytes, c);
}

/**
 * A response as the bytes grpc-js sends: serialized here, so that a message
 * that cannot be serialized fails the handler (INTERNAL, `onInternalError`),
 * and checked against the server's `grpc.max_send_message_length`
 * (RESOURCE_EXHAUSTED, as grpc-js answers it, but through the hooks).
 *
 * @throws what serialization threw; a GrpcError RESOURCE_EXHAUSTED for a response over the limit.
 */
function responseBytes(c: ServedCall, message: unknown): Buffer {
  const bytes = c.runtime.serialize(message);
  const max = c.runtime.maxSendBytes;
  if (max >= 0 && bytes.length > max) throw new GrpcError(Status.RESOURCE_EXHAUSTED, `response larger than max_send_message_length (${bytes.length} vs. ${max} bytes)`);
  return bytes;
}

/** An Iterable that is not also an AsyncIterable (an object with both is read asynchronously). */
function isSyncOnly(responses: StreamResponses<unknown>): responses is Iterable<unknown> {
  return typeof (responses as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] !== "function" && typeof (responses as Partial<Iterable<unknown>>)[Symbol.iterator] === "function";
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value instanceof Promise || (typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function");
}

/** The handler succeeded: send the header if not yet sent, release the call, end the hooks with OK (the caller then sends the trailer). */
function endOk(c: ServedCall): void {
  c.flushHeader();
  c.finish();
  const trailer = c.trailerIfAny;
  if (trailer !== undefined) withoutStatusKeys(trailer);
  endHooks(c, okResult);
}

/** The call was cancelled or expired while the handler ran: nothing can be sent any more. */
function endAborted(c: ServedCall, reason: GrpcError, error?: unknown): void {
  c.finish();
  endHooks(c, { code: reason.code, message: reason.rawMessage, error });
}

/** End the hooks; an `end` that throws is reported (`onInternalError`) and never keeps the status from being sent. */
function endHooks(c: ServedCall, result: CallResult): void {
  try {
    c.hooks.end(result);
  } catch (err) {
    reportSafely(c.runtime.report, err, c.path);
  }
}

/** Send the status for a failed handler (see `failureStatus`). */
function fail(c: ServedCall, err: unknown, send: Settle): void {
  const reason = c.abortReason();
  if (reason !== undefined) return endAborted(c, reason, err);
  const trailers = c.errorTrailers();
  c.finish();
  const status = failureStatus(err, trailers, c.runtime.report, c.path);
  endHooks(c, { code: status.code, message: status.details, error: err });
  send({ ...status, message: status.details });
}

function unimplementedHandler(method: DescMethod): UntypedHandleCall {
  const status = () => ({
    code: Status.UNIMPLEMENTED,
    details: `method ${methodPath(method)} is not implemented`,
    metadata: new Metadata(),
  });
  switch (method.methodKind) {
    case "unary":
    case "client_streaming":
      return (_call: unknown, callback: sendUnaryData<unknown>) => callback(status() as never);
    case "server_streaming":
    case "bidi_streaming":
      return (call: ServerWritableStream<unknown, unknown>) => call.emit("error", status());
  }
}

function defaultReport(error: unknown, path: string): void {
  console.error(`protoc-gen-grpckit: handler for ${path} failed; the client got INTERNAL:`, error);
}
