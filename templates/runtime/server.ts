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
import { createServiceDefinition, methodPath } from "./definition.js";
import { Status, type GrpcError, type StatusObject } from "./grpc-error.js";
import { startServerCall, type HandlerContext, type ServerCallState, type SurfaceCall } from "./server-context.js";
import { startServerHooks, type ComposedServerHooks, type ServerHook } from "./hooks.js";
import { serverHooksOf, type ServiceRuntimeConfig } from "./service-config.js";
import { runWithPropagatedContext } from "./propagation.js";
import { readMessages, writeMessage } from "./streams.js";
import { recordService, serverStateOf } from "./server-registry.js";
import { methodLimits, type ServerLimitOptions } from "./server-limits.js";
import { authenticationStep, type ServerAuthOptions } from "./server-auth.js";
import { failureStatus } from "./server-errors.js";

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

/** One call being served: the state the handler context comes from, and its hooks. */
interface ServedCall {
  readonly method: DescMethod;
  readonly state: ServerCallState;
  readonly hooks: ComposedServerHooks;
  readonly report: Report;
}

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
  const handlers: UntypedServiceImplementation = {};
  for (const method of service.methods) {
    const fn = (impl as Record<string, unknown>)[method.localName];
    if (fn === undefined) {
      handlers[method.name] = unimplementedHandler(method);
      continue;
    }
    if (typeof fn !== "function") {
      throw new TypeError(`${methodPath(method)}: implementation property "${method.localName}" is not a function`);
    }
    handlers[method.name] = createMethodHandler(server, method, (fn as AnyHandler).bind(impl), options, hooks);
  }
  server.addService(createServiceDefinition(service), handlers);
  recordService(server, service);
}

function createMethodHandler(server: Server, method: DescMethod, fn: AnyHandler, options: ServerOptions, hookList: readonly ServerHook[]): UntypedHandleCall {
  const report = options.onInternalError ?? defaultReport;
  const serverState = serverStateOf(server);
  const limits = methodLimits(server, method, options);
  const release = limits?.release;
  const auth = authenticationStep(options);
  const serve = (call: SurfaceCall): ServedCall => {
    const state = startServerCall(call, method, serverState, release);
    return { method, state, hooks: startServerHooks(hookList, method, state.context), report };
  };
  const handler = kindHandler(method, fn, serve, auth);
  return limits === undefined ? handler : limits.guard(handler);
}

type AuthStep = ((ctx: HandlerContext) => Promise<void>) | undefined;

function kindHandler(method: DescMethod, fn: AnyHandler, serve: (call: SurfaceCall) => ServedCall, auth: AuthStep): UntypedHandleCall {
  switch (method.methodKind) {
    case "unary":
      return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        const c = serve(call);
        const run = () => {
          c.hooks.request(call.request);
          return fn(call.request as never, c.state.context as never);
        };
        respondOnce(c, auth === undefined ? run : () => auth(c.state.context).then(run), callback);
      };
    case "server_streaming":
      return (call: ServerWritableStream<unknown, unknown>) => {
        const c = serve(call);
        const run = () => {
          c.hooks.request(call.request);
          return fn(call.request as never, c.state.context as never) as AsyncIterable<unknown>;
        };
        respondStream(c, call, auth === undefined ? run : () => afterAuth(auth, c.state.context, run));
      };
    case "client_streaming":
      return (call: ServerReadableStream<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        const c = serve(call);
        const run = () => fn(requestsOf(c, call) as never, c.state.context as never);
        respondOnce(c, auth === undefined ? run : () => auth(c.state.context).then(run), callback);
      };
    case "bidi_streaming":
      return (call: ServerDuplexStream<unknown, unknown>) => {
        const c = serve(call);
        const run = () => fn(requestsOf(c, call) as never, c.state.context as never) as AsyncIterable<unknown>;
        respondStream(c, call, auth === undefined ? run : () => afterAuth(auth, c.state.context, run));
      };
  }
}

/** The responses of a streaming handler that runs once the call is authenticated. */
async function* afterAuth(auth: NonNullable<AuthStep>, ctx: HandlerContext, run: () => AsyncIterable<unknown>): AsyncIterable<unknown> {
  await auth(ctx);
  yield* run();
}

/** The request messages of a client-streaming or bidi call, each passed through the hooks. */
async function* requestsOf(c: ServedCall, call: ServerReadableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>) {
  // confirmEnd: a cancelled request stream throws CANCELLED instead of ending (grpc-js half-closes, then resets).
  for await (const message of readMessages(call, { signal: c.state.context.signal, confirmEnd: true })) {
    c.hooks.request(message);
    yield message;
  }
}

/** Unary and client-streaming: one response, or an error, through the callback. */
function respondOnce(c: ServedCall, run: () => unknown, callback: sendUnaryData<unknown>): void {
  const { state, hooks, method } = c;
  new Promise((resolve) => resolve(runWithPropagatedContext(state.context, () => hooks.around(run)))).then(
    (response) => {
      if (state.context.signal.aborted) return endAborted(c);
      let message: unknown;
      try {
        message = create(method.output, response as never);
        hooks.response(message);
      } catch (err) {
        return fail(c, err, (s) => callback(s as never));
      }
      state.context.sendHeader();
      state.finish();
      hooks.end({ code: Status.OK, message: "" });
      callback(null, message, state.context.responseTrailer);
    },
    (err: unknown) => fail(c, err, (s) => callback(s as never)),
  );
}

/** Server-streaming and bidi: write every response with backpressure, then the status. */
function respondStream(
  c: ServedCall,
  call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>,
  responses: () => AsyncIterable<unknown>,
): void {
  const { state, hooks, method } = c;
  const signal = state.context.signal;
  const pump = async () => {
    for await (const response of responses()) {
      if (signal.aborted) throw signal.reason;
      const message = create(method.output, response as never);
      hooks.response(message);
      state.context.sendHeader();
      await writeMessage(call, message, signal);
    }
  };
  runWithPropagatedContext(state.context, () => hooks.around(pump)).then(
    () => {
      if (signal.aborted) return endAborted(c);
      state.context.sendHeader();
      state.finish();
      hooks.end({ code: Status.OK, message: "" });
      call.end(state.context.responseTrailer);
    },
    (err: unknown) => fail(c, err, (s) => call.emit("error", s)),
  );
}

/** The call was cancelled or expired while the handler ran: nothing can be sent any more. */
function endAborted(c: ServedCall, error?: unknown): void {
  c.state.finish();
  const reason = c.state.context.signal.reason as GrpcError;
  c.hooks.end({ code: reason.code, message: reason.rawMessage, error });
}

/** Send the status for a failed handler (see `failureStatus`). */
function fail(c: ServedCall, err: unknown, send: (status: StatusObject & { message: string }) => void): void {
  const { state, hooks } = c;
  if (state.context.signal.aborted) return endAborted(c, err);
  const trailers = state.errorTrailers();
  state.finish();
  const status = failureStatus(err, trailers, c.report, state.context.path);
  hooks.end({ code: status.code, message: status.details, error: err });
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
