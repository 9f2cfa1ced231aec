/**
 * protoc-gen-grpckit runtime, OpenTelemetry part
 * (`@grpckit/runtime/telemetry`). Code generated with
 * `telemetry=true` (the default) imports it; it needs the peer dependency
 * `@opentelemetry/api` (never an SDK). The rest of the runtime does not
 * import OpenTelemetry.
 */
export { createClientTelemetryHook, spanName } from "./client-hook.js";
export { createServerTelemetryHook } from "./server-hook.js";
export { telemetryHooks, type TracedClientOptions, type TracedServerOptions } from "./with-telemetry.js";
export type { ClientTelemetryOptions, ServerTelemetryOptions, TelemetryOptions } from "./options.js";
export { parseSemconvMode, type SemconvMode } from "./semconv.js";
export { metadataGetter, metadataSetter } from "./metadata-carrier.js";
