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
 *   failed) and a GrpcError whose code is not a failure (OK, or not an
 *   integer from 1 to 16: a thrown error never reads as success on the
 *   wire): INTERNAL "internal error", and `report(err, path)`; nothing of the
 *   error's text reaches the wire.
 * `trailers` (the call's own) come first; `grpc-status` and `grpc-message`
 * entries of any metadata are dropped (grpc-js would send them over the
 * status).
 */
export function failureStatus(err: unknown, trailers: Metadata, report: (error: unknown, path: string) => void, path: string): StatusObject {
  if (err instanceof GrpcError && err.origin !== "local" && isFailureCode(err.code)) {
    const metadata = trailers.clone();
    mergeMetadata(metadata, err.origin === "peer" ? forwardableTrailers(err.metadata) : err.metadata);
    return { code: err.code, details: err.rawMessage, metadata: withoutStatusKeys(metadata) };
  }
  reportSafely(report, err, path);
  return { code: Status.INTERNAL, details: "internal error", metadata: withoutStatusKeys(trailers) };
}

/** A status code a failed call may carry: an integer from 1 (CANCELLED) to 16 (UNAUTHENTICATED). */
function isFailureCode(code: number): boolean {
  return Number.isInteger(code) && code >= Status.CANCELLED && code <= Status.UNAUTHENTICATED;
}

/**
 * Remove `grpc-status` and `grpc-message` from metadata about to be sent as
 * trailers: grpc-js lays the trailers over the status it sends, so a handler's
 * `responseTrailer.set("grpc-status", "0")` would turn a failure into OK.
 * Returns `md`. @internal For the server runtime.
 */
export function withoutStatusKeys(md: Metadata): Metadata {
  md.remove("grpc-status");
  md.remove("grpc-message");
  return md;
}

/**
 * `report(error, path)`; if `report` itself throws (a failing
 * `onInternalError`), both errors are logged with `console.error` instead:
 * reporting never keeps a status from being sent. @internal For the server runtime.
 */
export function reportSafely(report: (error: unknown, path: string) => void, error: unknown, path: string): void {
  try {
    report(error, path);
  } catch (reportError) {
    console.error(`protoc-gen-grpckit: onInternalError threw while reporting a failure of ${path}:`, reportError, "the failure:", error);
  }
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
