import { Metadata, status as Status } from "@grpc/grpc-js";

export { Status };

/** A plain object grpc-js accepts as a call's final status (its `ServiceError` shape). */
export interface StatusObject {
  code: Status;
  details: string;
  metadata: Metadata;
}

/**
 * An error with a gRPC status code.
 *
 * On a server: throw it from a handler to answer with exactly this status
 * code, message (`grpc-message`) and trailing metadata. On a client: every
 * failed call rejects (or its stream throws) with a GrpcError carrying the
 * received code, message and trailers.
 *
 * Status codes are the grpc-js `status` enum, re-exported as `Status`
 * (https://grpc.github.io/grpc/core/md_doc_statuscodes.html).
 */
export class GrpcError extends Error {
  override name = "GrpcError";
  /** The status code. */
  readonly code: Status;
  /** The status message as sent on the wire (`grpc-message`), without the code prefix. */
  readonly rawMessage: string;
  /** Trailing metadata: sent with the status by a server, received with it by a client. */
  readonly metadata: Metadata;

  constructor(code: Status, message: string, options?: { metadata?: Metadata; cause?: unknown }) {
    super(`[${Status[code] ?? code}] ${message}`, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.code = code;
    this.rawMessage = message;
    this.metadata = options?.metadata ?? new Metadata();
  }

  /** The status code's name, e.g. `"UNAVAILABLE"`. */
  get codeName(): string {
    return Status[this.code] ?? String(this.code);
  }

  /** The grpc-js status object for this error. */
  toStatusObject(): StatusObject {
    return { code: this.code, details: this.rawMessage, metadata: this.metadata };
  }
}

/**
 * Convert what a grpc-js client call failed with (a `ServiceError`: `code`,
 * `details`, `metadata`) into a GrpcError. Anything else becomes UNKNOWN
 * with the error's message.
 */
export function grpcErrorFromServiceError(err: unknown): GrpcError {
  if (err instanceof GrpcError) return err;
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "number") {
    const e = err as { code: number; details?: unknown; message?: unknown; metadata?: unknown };
    const details = typeof e.details === "string" ? e.details : typeof e.message === "string" ? e.message : "";
    const metadata = e.metadata instanceof Metadata ? e.metadata : undefined;
    return new GrpcError(e.code, details, { metadata, cause: err });
  }
  return new GrpcError(Status.UNKNOWN, err instanceof Error ? err.message : String(err), { cause: err });
}
