import { Metadata } from "@grpc/grpc-js";
import { GrpcError, Status, type StatusObject } from "./grpc-error.js";
import { mergeMetadata } from "./metadata.js";
import { statusDetailsKey } from "./status-details.js";

/**
 * The status a server sends for what a handler threw:
 * - a GrpcError of origin `"app"` (the handler's own): its code, message and
 *   trailing metadata;
 * - a GrpcError of origin `"peer"` (a downstream call's status the handler let
 *   propagate): its code, message, `grpc-status-details-bin` and custom
 *   trailers, but none of the downstream hop's other `grpc-*` trailers (e.g.
 *   `grpc-retry-pushback-ms` was meant for this server's client, not for its caller);
 * - anything else, including a GrpcError of origin `"local"` (this process
 *   failed): INTERNAL "internal error", and `report(err, path)`; nothing of the
 *   error's text reaches the wire.
 * `trailers` (the call's own) come first.
 */
export function failureStatus(err: unknown, trailers: Metadata, report: (error: unknown, path: string) => void, path: string): StatusObject {
  if (err instanceof GrpcError && err.origin !== "local") {
    const metadata = trailers.clone();
    mergeMetadata(metadata, err.origin === "peer" ? forwardableTrailers(err.metadata) : err.metadata);
    return { code: err.code, details: err.rawMessage, metadata };
  }
  report(err, path);
  return { code: Status.INTERNAL, details: "internal error", metadata: trailers };
}

/** A peer's trailers without the hop-specific `grpc-*` keys (its status details are kept). */
function forwardableTrailers(md: Metadata): Metadata {
  const out = new Metadata();
  for (const key of Object.keys(md.getMap())) {
    if (key.startsWith("grpc-") && key !== statusDetailsKey) continue;
    for (const value of md.get(key)) out.add(key, value);
  }
  return out;
}
