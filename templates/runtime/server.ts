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
import { GrpcError, Status, type StatusObject } from "./grpc-error.js";
import { startServerCall, type ServerCallState } from "./server-context.js";
import { readMessages, writeMessage } from "./streams.js";

/**
 * Options for registering a service implementation.
 */
export interface ServerOptions {
  /**
   * Called with every error a handler throws that is not a GrpcError. The
   * client receives INTERNAL with the generic message "internal error"
   * (nothing of the error's text or stack goes on the wire). Default: log the
   * error with `console.error`, naming the method.
   */
  readonly onInternalError?: (error: unknown, path: string) => void;
}

type AnyHandler = (...args: never[]) => unknown;

/**
 * Register an implementation of a service on a grpc-js Server. For each
 * method of `service`, `impl[method.localName]` serves it; a method the
 * implementation leaves out answers UNIMPLEMENTED. Generated
 * `add<Service>` / `addPartial<Service>` functions call this with the right
 * types.
 *
 * @throws TypeError if `impl` has a property of a method's name that is not a function.
 */
export function addServiceImplementation(
  server: Server,
  service: DescService,
  impl: object,
  options: ServerOptions = {},
): void {
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
    handlers[method.name] = createMethodHandler(method, (fn as AnyHandler).bind(impl), options);
  }
  server.addService(createServiceDefinition(service), handlers);
}

function createMethodHandler(method: DescMethod, fn: AnyHandler, options: ServerOptions): UntypedHandleCall {
  const report = options.onInternalError ?? defaultReport;
  switch (method.methodKind) {
    case "unary":
      return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        const state = startServerCall(call, method);
        respondOnce(state, method, () => fn(call.request as never, state.context as never), callback, report);
      };
    case "server_streaming":
      return (call: ServerWritableStream<unknown, unknown>) => {
        const state = startServerCall(call, method);
        const responses = () => fn(call.request as never, state.context as never) as AsyncIterable<unknown>;
        respondStream(state, method, call, responses, report);
      };
    case "client_streaming":
      return (call: ServerReadableStream<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        const state = startServerCall(call, method);
        const requests = readMessages(call, { signal: state.context.signal });
        respondOnce(state, method, () => fn(requests as never, state.context as never), callback, report);
      };
    case "bidi_streaming":
      return (call: ServerDuplexStream<unknown, unknown>) => {
        const state = startServerCall(call, method);
        const requests = readMessages(call, { signal: state.context.signal });
        const responses = () => fn(requests as never, state.context as never) as AsyncIterable<unknown>;
        respondStream(state, method, call, responses, report);
      };
  }
}

/** Unary and client-streaming: one response, or an error, through the callback. */
function respondOnce(
  state: ServerCallState,
  method: DescMethod,
  run: () => unknown,
  callback: sendUnaryData<unknown>,
  report: (error: unknown, path: string) => void,
): void {
  new Promise((resolve) => resolve(run())).then(
    (response) => {
      if (state.context.signal.aborted) return state.finish();
      let message: unknown;
      try {
        message = create(method.output, response as never);
      } catch (err) {
        return fail(state, err, report, (s) => callback(s as never));
      }
      state.context.sendHeader();
      state.finish();
      callback(null, message, state.context.responseTrailer);
    },
    (err: unknown) => fail(state, err, report, (s) => callback(s as never)),
  );
}

/** Server-streaming and bidi: write every response with backpressure, then the status. */
function respondStream(
  state: ServerCallState,
  method: DescMethod,
  call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>,
  responses: () => AsyncIterable<unknown>,
  report: (error: unknown, path: string) => void,
): void {
  const signal = state.context.signal;
  const pump = async () => {
    for await (const response of responses()) {
      if (signal.aborted) throw signal.reason;
      const message = create(method.output, response as never);
      state.context.sendHeader();
      await writeMessage(call, message, signal);
    }
  };
  pump().then(
    () => {
      if (signal.aborted) return state.finish();
      state.context.sendHeader();
      state.finish();
      call.end(state.context.responseTrailer);
    },
    (err: unknown) => fail(state, err, report, (s) => call.emit("error", s)),
  );
}

/** Send the status for a failed handler; unknown errors become INTERNAL and are reported locally. */
function fail(
  state: ServerCallState,
  err: unknown,
  report: (error: unknown, path: string) => void,
  send: (status: StatusObject & { message: string }) => void,
): void {
  const aborted = state.context.signal.aborted;
  const trailers = state.errorTrailers();
  state.finish();
  if (aborted) return; // the call is already over (cancelled or expired); nothing can be sent.
  let status: StatusObject;
  if (err instanceof GrpcError) {
    const metadata = trailers.clone();
    for (const [key] of Object.entries(err.metadata.getMap())) {
      for (const v of err.metadata.get(key)) metadata.add(key, v);
    }
    status = { code: err.code, details: err.rawMessage, metadata };
  } else {
    report(err, state.context.path);
    status = { code: Status.INTERNAL, details: "internal error", metadata: trailers };
  }
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
