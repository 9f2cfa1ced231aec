/**
 * protoc-gen-grpckit runtime: what generated code calls at run time. Depends
 * on `@grpc/grpc-js` and `@bufbuild/protobuf` only. Request validation lives
 * in `@grpckit/runtime/validate` (adds `@bufbuild/re2`,
 * `@bufbuild/cel`), telemetry in `@grpckit/runtime/telemetry`
 * (adds `@opentelemetry/api`): generated code imports them only when used.
 */
export { GrpcError, Status, grpcErrorFromServiceError, type StatusObject } from "./grpc-error.js";
export { createServiceDefinition, methodDefinition, methodPath } from "./definition.js";
export { addServiceImplementation, type ServerOptions } from "./server.js";
export { isGrpcError, type GrpcErrorOrigin } from "./grpc-error.js";
export { bearerAuthenticator, unauthenticatedMessage, type Authenticator, type ServerAuthOptions } from "./server-auth.js";
export { concurrentCalls, defaultOverloadPushbackMs, type ServerLimitOptions } from "./server-limits.js";
export { clientHooksOf, serverHooksOf, type HookProvider, type ServiceRuntimeConfig } from "./service-config.js";
export type { HandlerContext, StreamResponses } from "./server-context.js";
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
export { type GrpcErrorOptions } from "./grpc-error.js";
export { statusDetailsKey, encodeStatusDetails, decodeStatusDetails } from "./status-details.js";
export {
  badRequestError,
  packDetail,
  pushbackError,
  retryPushbackKey,
  serverPushbackMs,
  type FieldViolationInit,
  type PushbackOptions,
} from "./error-details.js";
export {
  BadRequestSchema,
  BadRequest_FieldViolationSchema,
  DebugInfoSchema,
  ErrorInfoSchema,
  HelpSchema,
  Help_LinkSchema,
  LocalizedMessageSchema,
  PreconditionFailureSchema,
  PreconditionFailure_ViolationSchema,
  QuotaFailureSchema,
  QuotaFailure_ViolationSchema,
  RequestInfoSchema,
  ResourceInfoSchema,
  RetryInfoSchema,
  type BadRequest,
  type BadRequest_FieldViolation,
  type DebugInfo,
  type ErrorInfo,
  type Help,
  type LocalizedMessage,
  type PreconditionFailure,
  type QuotaFailure,
  type RequestInfo,
  type ResourceInfo,
  type RetryInfo,
} from "./gen/google/rpc/error_details_pb.js";
export { StatusSchema as RpcStatusSchema, type Status as RpcStatus } from "./gen/google/rpc/status_pb.js";
export {
  backoffDelayMs,
  checkHedgingPolicy,
  checkRetryPolicy,
  checkThrottlePolicy,
  defaultRetryPolicy,
  isHedgeable,
  isIdempotent,
  retryableStatusCodes,
  type HedgingPolicy,
  type RetryPolicy,
  type ThrottlePolicy,
} from "./retry-policy.js";
export { durationMs, parseServiceConfig, type CallPolicies, type GrpcMethodConfig, type GrpcServiceConfig, type MethodPlan } from "./grpc-service-config.js";
export { RetryThrottle } from "./retry-throttle.js";
export { previousAttemptsKey } from "./retry.js";
export { abortedError, earliestDeadline, onAnyAbort, sleep } from "./deadline.js";
export { currentPropagatedContext, runWithPropagatedContext, type PropagatedContext } from "./propagation.js";
/** @internal Per-server state for the production server kit; not public API. */
export { recordService, registeredServices, serverStateOf, type ServerState } from "./server-registry.js";
