import { status as Status } from "@grpc/grpc-js";

/**
 * The OpenTelemetry RPC semantic conventions this module follows, in one place.
 *
 * Two sets exist (https://opentelemetry.io/docs/specs/semconv/rpc/):
 * - "old": the experimental RPC conventions of semantic-conventions v1.37.0
 *   (`rpc.system`, `rpc.service`, short `rpc.method`, integer
 *   `rpc.grpc.status_code`, `rpc.message` events, `rpc.*.duration` in ms and
 *   the size / messages-per-RPC histograms). The default, as the migration
 *   guide (docs/non-normative/rpc-migration.md) requires of existing
 *   instrumentations.
 * - "stable": the stable RPC conventions as published in
 *   `@opentelemetry/semantic-conventions` 1.45.0 (`rpc.system.name`,
 *   fully-qualified `rpc.method`, string `rpc.status_code`, `error.type`,
 *   `rpc.*.call.duration` in seconds; message events and size metrics are
 *   deprecated there without replacement, so they are not emitted).
 *
 * `OTEL_SEMCONV_STABILITY_OPT_IN` selects: `rpc` = stable only, `rpc/dup` =
 * both (it wins over `rpc` when both are listed), anything else = old.
 */
export type SemconvMode = "old" | "stable" | "dup";

/** Attribute and metric names. Names only: values are computed in attributes.ts. */
export const attr = {
  // Old (v1.37.0).
  rpcSystem: "rpc.system",
  rpcService: "rpc.service",
  rpcGrpcStatusCode: "rpc.grpc.status_code",
  oldRequestMetadata: "rpc.grpc.request.metadata.",
  oldResponseMetadata: "rpc.grpc.response.metadata.",
  messageType: "rpc.message.type",
  messageId: "rpc.message.id",
  messageUncompressedSize: "rpc.message.uncompressed_size",
  // Stable.
  rpcSystemName: "rpc.system.name",
  rpcStatusCode: "rpc.status_code",
  errorType: "error.type",
  requestHeader: "rpc.request.header.",
  responseHeader: "rpc.response.header.",
  responseTrailer: "rpc.response.trailer.",
  // Both: `rpc.method` is the short name in "old", `pkg.Service/Method` in "stable" and "dup".
  rpcMethod: "rpc.method",
  serverAddress: "server.address",
  serverPort: "server.port",
  networkPeerAddress: "network.peer.address",
  networkPeerPort: "network.peer.port",
} as const;

/**
 * The span event of one message (`rpc.message`, docs/rpc/rpc-events.md):
 * recorded on streaming calls only ("In case of unary calls message events
 * SHOULD NOT be recorded").
 */
export const messageEventName = "rpc.message";

/** Not semantic conventions: this runtime's own namespace (retry attempts, status details). */
export const grpckitAttr = {
  attemptEvent: "grpckit.attempt",
  attempt: "grpckit.attempt",
  backoffMs: "grpckit.attempt.backoff_ms",
  previousStatus: "grpckit.attempt.previous_status_code",
  attemptCount: "grpckit.attempt.count",
  statusEvent: "grpckit.status",
  statusCode: "grpckit.status.code",
  statusMessage: "grpckit.status.message",
} as const;

export const metricNames = {
  clientDuration: "rpc.client.duration",
  serverDuration: "rpc.server.duration",
  clientRequestSize: "rpc.client.request.size",
  clientResponseSize: "rpc.client.response.size",
  serverRequestSize: "rpc.server.request.size",
  serverResponseSize: "rpc.server.response.size",
  clientRequestsPerRpc: "rpc.client.requests_per_rpc",
  clientResponsesPerRpc: "rpc.client.responses_per_rpc",
  serverRequestsPerRpc: "rpc.server.requests_per_rpc",
  serverResponsesPerRpc: "rpc.server.responses_per_rpc",
  clientCallDuration: "rpc.client.call.duration",
  serverCallDuration: "rpc.server.call.duration",
} as const;

/** Histogram bucket advice for durations in seconds (stable `rpc.*.call.duration`). */
export const secondsBuckets: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/**
 * Read the semconv mode from an `OTEL_SEMCONV_STABILITY_OPT_IN` value (a
 * comma-separated list; `rpc/dup` wins over `rpc`).
 */
export function parseSemconvMode(optIn: string | undefined): SemconvMode {
  if (optIn === undefined) return "old";
  const values = optIn.split(",").map((v) => v.trim().toLowerCase());
  if (values.includes("rpc/dup")) return "dup";
  if (values.includes("rpc")) return "stable";
  return "old";
}

/** True when the mode emits the old (v1.37.0) conventions. */
export const emitsOld = (mode: SemconvMode): boolean => mode !== "stable";
/** True when the mode emits the stable conventions. */
export const emitsStable = (mode: SemconvMode): boolean => mode !== "old";

const statusNames: readonly string[] = (() => {
  const names: string[] = [];
  for (const [name, code] of Object.entries(Status)) if (typeof code === "number") names[code] = name;
  return names;
})();

/** The gRPC status code name (`OK`, `DEADLINE_EXCEEDED`, ...), or the number as a string for codes outside 0-16. */
export function statusName(code: number): string {
  return statusNames[code] ?? String(code);
}

/**
 * Status codes the gRPC semantic conventions name as server errors
 * (docs/rpc/grpc.md, server span, `rpc.status_code`): UNKNOWN,
 * DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS. Other
 * codes are the client's problem and leave the server span status unset.
 */
const serverErrorCodes: ReadonlySet<number> = new Set([
  Status.UNKNOWN,
  Status.DEADLINE_EXCEEDED,
  Status.UNIMPLEMENTED,
  Status.INTERNAL,
  Status.UNAVAILABLE,
  Status.DATA_LOSS,
]);

/** Whether a call that ended with `code` failed, from the client's (every non-OK) or the server's point of view. */
export function isError(code: number, side: "client" | "server"): boolean {
  if (code === Status.OK) return false;
  return side === "client" || serverErrorCodes.has(code);
}
