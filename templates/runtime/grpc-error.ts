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
  /**
   * Where the error was made (see {@link GrpcErrorOrigin}): `"app"` for one
   * constructed by application code (the default), `"peer"` for one a client
   * made from a status it received, `"local"` for a failure of this process
   * (a client hook, call credentials or interceptor threw, the client was
   * closed, the caller cancelled). A server forwards `"app"` and `"peer"`
   * errors (a peer's without its hop-specific `grpc-*` trailers) and answers
   * INTERNAL for `"local"` ones.
   */
  readonly origin: GrpcErrorOrigin;
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
    this.origin = options?.origin ?? "app";
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

  /**
   * Whether `value` is a GrpcError made by any copy of this runtime (the ESM
   * and the CommonJS builds loaded in one process each have their own class):
   * true for an Error carrying the brand `Symbol.for("@grpckit/runtime.GrpcError.v1")`.
   * `value instanceof GrpcError` uses the same test (`Symbol.hasInstance`),
   * as connect-es's ConnectError does.
   */
  static isGrpcError(value: unknown): value is GrpcError {
    return value instanceof Error && (value as unknown as Record<symbol, unknown>)[grpcErrorBrand] === true;
  }

  /** `instanceof GrpcError` across copies of the runtime; subclasses keep the prototype-chain test. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== GrpcError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return GrpcError.isGrpcError(value);
  }
}

/** The brand every copy of the runtime puts on GrpcError.prototype. */
const grpcErrorBrand = Symbol.for("@grpckit/runtime.GrpcError.v1");
Object.defineProperty(GrpcError.prototype, grpcErrorBrand, { value: true });

/** Whether `value` is a GrpcError made by any copy of the runtime (see `GrpcError.isGrpcError`). */
export const isGrpcError = (value: unknown): value is GrpcError => GrpcError.isGrpcError(value);

/**
 * Where a GrpcError was made: `"app"` (application code threw it),
 * `"peer"` (a client received it as a call's status: code, message and
 * trailers come from the server, or from grpc-js's transport), `"local"`
 * (this process failed: its text must not reach the wire).
 */
export type GrpcErrorOrigin = "app" | "peer" | "local";

/** Options of a GrpcError. */
export interface GrpcErrorOptions {
  /** Trailing metadata. Default: empty. */
  readonly metadata?: Metadata;
  /** The underlying error (`Error.cause`). */
  readonly cause?: unknown;
  /** Error details, e.g. `[packDetail(BadRequestSchema, {...})]`. Default: none. */
  readonly details?: readonly Any[];
  /** Where the error was made. Default `"app"`. */
  readonly origin?: GrpcErrorOrigin;
}

/**
 * Convert what a grpc-js client call failed with (a `ServiceError`: `code`,
 * `details`, `metadata`) into a GrpcError. Anything else becomes UNKNOWN
 * with the error's message, origin `"local"`.
 *
 * @param origin - the origin to give the result. Default: `"peer"` for a
 *   grpc-js status (`"local"` when grpc-js reports that call credentials
 *   failed: its text is this process's exception), `"local"` for anything
 *   else. Passing `"local"` re-labels a GrpcError of another origin (a copy
 *   with the same code, message and trailers, the original as `cause`).
 */
export function grpcErrorFromServiceError(err: unknown, origin?: GrpcErrorOrigin): GrpcError {
  if (err instanceof GrpcError) {
    if (origin !== "local" || err.origin === "local") return err;
    return new GrpcError(err.code, err.rawMessage, { metadata: err.metadata, cause: err, origin });
  }
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "number") {
    const e = err as { code: number; details?: unknown; message?: unknown; metadata?: unknown };
    const details = typeof e.details === "string" ? e.details : typeof e.message === "string" ? e.message : "";
    const metadata = e.metadata instanceof Metadata ? e.metadata : undefined;
    return new GrpcError(e.code, details, { metadata, cause: err, origin: origin ?? (details.startsWith(pluginFailurePrefix) ? "local" : "peer") });
  }
  return new GrpcError(Status.UNKNOWN, err instanceof Error ? err.message : String(err), { cause: err, origin: "local" });
}

/** How grpc-js starts the status of a call whose call credentials threw (load-balancing-call.ts). */
const pluginFailurePrefix = "Getting metadata from plugin failed";
