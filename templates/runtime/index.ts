/**
 * protoc-gen-grpckit runtime: what generated code calls at run time. Depends
 * on `@grpc/grpc-js` and `@bufbuild/protobuf` only.
 */
export { GrpcError, Status, grpcErrorFromServiceError, type StatusObject } from "./grpc-error.js";
export { createServiceDefinition, methodDefinition, methodPath } from "./definition.js";
export { addServiceImplementation, type ServerOptions } from "./server.js";
export type { HandlerContext } from "./server-context.js";
export { ClientTransport, createClientTransport, resolveDeadline, type CallOptions, type ClientOptions, type RequestStream } from "./client.js";
export { toMetadata, type MetadataInit } from "./metadata.js";
export { readMessages, writeMessage, type ReadMessagesOptions } from "./streams.js";
export {
  startClientHooks,
  startServerHooks,
  type AttemptInfo,
  type CallResult,
  type ClientCallHooks,
  type ClientCallStart,
  type ClientHook,
  type ServerCallHooks,
  type ServerHook,
} from "./hooks.js";
