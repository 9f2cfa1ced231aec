import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import type { Metadata } from "@grpc/grpc-js";
import { StatusSchema } from "./gen/google/rpc/status_pb.js";

/**
 * The trailer that carries a binary `google.rpc.Status` next to
 * `grpc-status` / `grpc-message` (gRPC "richer error model").
 */
export const statusDetailsKey = "grpc-status-details-bin";

/**
 * Encode a `google.rpc.Status` with the given code, message and details
 * (each a `google.protobuf.Any`) into its wire bytes.
 */
export function encodeStatusDetails(code: number, message: string, details: readonly Any[]): Uint8Array {
  return toBinary(StatusSchema, create(StatusSchema, { code, message, details: [...details] }));
}

/**
 * Read the details of the `google.rpc.Status` in `grpc-status-details-bin`.
 * Returns an empty list when the trailer is absent, cannot be decoded, or
 * names a different code than the call's `grpc-status` (the gRPC spec
 * requires them to agree; grpc-go ignores such a mismatched Status too).
 */
export function decodeStatusDetails(metadata: Metadata, code: number): Any[] {
  const values = metadata.get(statusDetailsKey);
  const raw = values[values.length - 1];
  if (raw === undefined || typeof raw === "string") return [];
  try {
    const status = fromBinary(StatusSchema, raw);
    return status.code === code ? status.details : [];
  } catch {
    return [];
  }
}
