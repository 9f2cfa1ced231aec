import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { anyIs, anyUnpack, type Any } from "@bufbuild/protobuf/wkt";
import { Metadata, status as Status } from "@grpc/grpc-js";
import { decodeStatusDetails, encodeStatusDetails, statusDetailsKey } from "./status-details.js";

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
 *
 * Rich errors (gRPC richer error model, `google.rpc.Status`): `details` are
 * `google.protobuf.Any` messages (e.g. `google.rpc.BadRequest`, see
 * `error-details.ts`). A server sends them encoded as a `google.rpc.Status`
 * in the `grpc-status-details-bin` trailer; a client decodes that trailer
 * into `details`, read with `findDetail(BadRequestSchema)`.
 */
export class GrpcError extends Error {
  override name = "GrpcError";
  /** The status code. */
  readonly code: Status;
  /** The status message as sent on the wire (`grpc-message`), without the code prefix. */
  readonly rawMessage: string;
  /** Trailing metadata: sent with the status by a server, received with it by a client. */
  readonly metadata: Metadata;
  private decodedDetails: readonly Any[] | undefined;

  /**
   * @param options.details - error details to send (server side); they are
   *   written into `metadata` as `grpc-status-details-bin` right away. Without
   *   it, details are read lazily from `metadata` (client side).
   */
  constructor(code: Status, message: string, options?: GrpcErrorOptions) {
    super(`[${Status[code] ?? code}] ${message}`, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.code = code;
    this.rawMessage = message;
    this.metadata = options?.metadata ?? new Metadata();
    if (options?.details !== undefined && options.details.length > 0) {
      this.decodedDetails = [...options.details];
      this.metadata.set(statusDetailsKey, Buffer.from(encodeStatusDetails(code, message, options.details)));
    }
  }

  /**
   * The error details (`google.rpc.Status.details`), each a
   * `google.protobuf.Any`. Empty when there are none or the trailer could not
   * be decoded.
   */
  get details(): readonly Any[] {
    this.decodedDetails ??= decodeStatusDetails(this.metadata, this.code);
    return this.decodedDetails;
  }

  /** The first detail of the given type, unpacked, e.g. `err.findDetail(BadRequestSchema)`; undefined if none. */
  findDetail<Desc extends DescMessage>(schema: Desc): MessageShape<Desc> | undefined {
    const any = this.details.find((d) => anyIs(d, schema));
    return any === undefined ? undefined : anyUnpack(any, schema);
  }

  /** Every detail of the given type, unpacked, in order. */
  findDetails<Desc extends DescMessage>(schema: Desc): MessageShape<Desc>[] {
    const out: MessageShape<Desc>[] = [];
    for (const d of this.details) {
      const m = anyIs(d, schema) ? anyUnpack(d, schema) : undefined;
      if (m !== undefined) out.push(m);
    }
    return out;
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

/** Options of a GrpcError. */
export interface GrpcErrorOptions {
  /** Trailing metadata. Default: empty. */
  readonly metadata?: Metadata;
  /** The underlying error (`Error.cause`). */
  readonly cause?: unknown;
  /** Error details, e.g. `[packDetail(BadRequestSchema, {...})]`. Default: none. */
  readonly details?: readonly Any[];
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
