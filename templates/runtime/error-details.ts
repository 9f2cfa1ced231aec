import { create, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { anyPack, durationFromMs, durationMs, type Any } from "@bufbuild/protobuf/wkt";
import { Metadata } from "@grpc/grpc-js";
import {
  BadRequestSchema,
  BadRequest_FieldViolationSchema,
  RetryInfoSchema,
} from "./gen/google/rpc/error_details_pb.js";
import { GrpcError, Status } from "./grpc-error.js";

/**
 * Typed helpers for the standard `google.rpc` error details (the gRPC
 * "richer error model"): build them on a server, read them on a client.
 * The message types are generated at build time from the `google/rpc`
 * protos of the npm package `google-proto-files` and re-exported from the
 * runtime (`BadRequestSchema`, `ErrorInfoSchema`, `RetryInfoSchema`,
 * `QuotaFailureSchema`, `PreconditionFailureSchema`, `ResourceInfoSchema`,
 * `HelpSchema`, `LocalizedMessageSchema`, `DebugInfoSchema`,
 * `RequestInfoSchema`).
 *
 * Server: `throw new GrpcError(Status.NOT_FOUND, "no such book", { details: [packDetail(ResourceInfoSchema, {...})] })`.
 * Client: `err.findDetail(ResourceInfoSchema)`.
 */

/** The metadata key of gRFC A6 server pushback: an integer number of milliseconds, negative = do not retry. */
export const retryPushbackKey = "grpc-retry-pushback-ms";

/** Create a detail message from its init shape and pack it into a `google.protobuf.Any`. */
export function packDetail<Desc extends DescMessage>(schema: Desc, init: MessageInitShape<Desc>): Any {
  return anyPack(schema, create(schema, init));
}

/** One field violation of a `google.rpc.BadRequest`. */
export interface FieldViolationInit {
  /** Path to the field, dot-separated proto field names with `[i]` / `["key"]` subscripts, e.g. `email_addresses[0].email`. */
  readonly field: string;
  /** Why the value is bad, for developers. */
  readonly description: string;
  /** A short UPPER_SNAKE_CASE reason (e.g. a protovalidate `rule_id`); optional. */
  readonly reason?: string;
}

/**
 * An INVALID_ARGUMENT GrpcError carrying a `google.rpc.BadRequest` with the
 * given field violations. The status message defaults to the violations
 * joined as `field: description; ...`.
 */
export function badRequestError(fieldViolations: readonly FieldViolationInit[], message?: string): GrpcError {
  const violations = fieldViolations.map((v) =>
    create(BadRequest_FieldViolationSchema, { field: v.field, description: v.description, reason: v.reason ?? "" }),
  );
  const text = message ?? (fieldViolations.map((v) => (v.field ? `${v.field}: ${v.description}` : v.description)).join("; ") || "invalid argument");
  return new GrpcError(Status.INVALID_ARGUMENT, text, {
    details: [anyPack(BadRequestSchema, create(BadRequestSchema, { fieldViolations: violations }))],
  });
}

/** Options of {@link pushbackError}. */
export interface PushbackOptions {
  /**
   * Milliseconds the client should wait before its next attempt. Sent both as
   * `grpc-retry-pushback-ms` (gRFC A6, honoured by every A6 client) and as a
   * `google.rpc.RetryInfo` detail. A negative value asks the client not to
   * retry at all (pushback only; no RetryInfo is sent).
   */
  readonly retryAfterMs: number;
  /** Extra details to send. Default: none. */
  readonly details?: readonly Any[];
  /** Extra trailing metadata. Default: none. */
  readonly metadata?: Metadata;
}

/**
 * A GrpcError (by default UNAVAILABLE; RESOURCE_EXHAUSTED is the other usual
 * choice) that asks the client to back off: throw it from a handler. Only
 * codes in the client's retryable list are retried; pushback never makes a
 * non-idempotent method retryable.
 *
 * @throws RangeError if `retryAfterMs` is not an integer.
 */
export function pushbackError(code: Status, message: string, options: PushbackOptions): GrpcError {
  if (!Number.isInteger(options.retryAfterMs)) throw new RangeError(`retryAfterMs must be an integer, got ${options.retryAfterMs}`);
  const metadata = options.metadata?.clone() ?? new Metadata();
  metadata.set(retryPushbackKey, String(options.retryAfterMs));
  const details = [...(options.details ?? [])];
  if (options.retryAfterMs >= 0) details.push(packDetail(RetryInfoSchema, { retryDelay: durationFromMs(options.retryAfterMs) }));
  return new GrpcError(code, message, { metadata, details });
}

/**
 * The delay a failed call's server asked for, in milliseconds: from
 * `grpc-retry-pushback-ms` (gRFC A6) if present, else from a
 * `google.rpc.RetryInfo` detail. Returns `undefined` when the server said
 * nothing, and `-1` when it asked not to retry (negative or malformed
 * pushback, as gRFC A6 specifies).
 */
export function serverPushbackMs(error: GrpcError): number | undefined {
  const values = error.metadata.get(retryPushbackKey);
  if (values.length > 0) {
    const text = String(values[0]);
    return /^\d+$/.test(text) ? Number(text) : -1;
  }
  const info = error.details.length > 0 ? error.findDetail(RetryInfoSchema) : undefined;
  if (info?.retryDelay === undefined) return undefined;
  const ms = durationMs(info.retryDelay);
  return ms >= 0 ? Math.ceil(ms) : -1;
}
