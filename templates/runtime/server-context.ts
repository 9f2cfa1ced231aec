import { setMaxListeners } from "node:events";
import type { DescMethod } from "@bufbuild/protobuf";
import { Metadata } from "@grpc/grpc-js";
import type { ServerUnaryCall } from "@grpc/grpc-js";
import { GrpcError, Status } from "./grpc-error.js";
import { mergeMetadata } from "./metadata.js";
import type { ServerState } from "./server-registry.js";
import { authContextOf, peerIdentity, type PeerIdentity } from "./security/peer-identity.js";

/**
 * What a server-streaming or bidi handler returns: its response messages, in
 * order. An AsyncIterable (an `async function*`, a Readable in object mode)
 * is read with `for await`; an Iterable that is not also async (an array, a
 * `function*`) is read with `for...of`, without a promise per message. Either
 * way each message is written with backpressure (the next one is taken only
 * once the stream has room), and when the call ends early (cancelled,
 * deadline exceeded, a write failed) the iterator's `return()` is called, so
 * the handler's `finally` blocks run.
 */
export type StreamResponses<T> = AsyncIterable<T> | Iterable<T>;

/**
 * What a handler knows about the call it serves. One per call.
 */
export interface HandlerContext {
  /** The method being served. */
  readonly method: DescMethod;
  /** The method's path, `/package.Service/Method`. */
  readonly path: string;
  /** The request metadata (headers) the client sent. */
  readonly requestMetadata: Metadata;
  /**
   * The call's deadline in milliseconds since the Unix epoch (comparable to
   * `Date.now()`), from the client's `grpc-timeout`; `undefined` when the
   * client set none.
   */
  readonly deadline: number | undefined;
  /**
   * Aborts when the call ends early: the client cancelled (reason: a
   * GrpcError with CANCELLED), the deadline passed (DEADLINE_EXCEEDED), or
   * the server was shut down with `forceShutdown()` (CANCELLED). Pass it on
   * to anything cancellable the handler starts.
   */
  readonly signal: AbortSignal;
  /**
   * Aborts when the server starts a graceful shutdown (drain): long-lived
   * streams should wrap up and return. Unary and client-streaming handlers
   * may ignore it: they are allowed to finish within the grace period.
   */
  readonly draining: AbortSignal;
  /**
   * The client's end of the connection as `host:port`, as it was when the
   * call started: `127.0.0.1:53412`, `[::1]:53412` (IPv6 in brackets),
   * `unknown` when grpc-js does not know it. (With a grpc-js whose server
   * calls lack `getConnectionInfo()`, added in 2025, grpc-js `getPeer()`
   * read at call start: IPv6 without brackets.)
   */
  readonly peer: string;
  /**
   * What `ServerOptions.authenticate` returned for this call (set before the
   * handler runs); `undefined` when the service has no `authenticate`.
   */
  readonly principal: unknown;
  /**
   * The verified TLS identity of the client (certificate subject, SANs,
   * serial), read on first access from grpc-js `getAuthContext()` (grpc-js
   * >= 1.14): `undefined` on plaintext, without a client certificate, and on
   * older grpc-js versions. See `@grpckit/runtime/security`.
   */
  readonly peerIdentity: PeerIdentity | undefined;
  /**
   * Response headers. Entries added before the first response message (or
   * before `sendHeader()`) are sent as headers. If the call fails before
   * they were sent, they are sent with the trailers instead (trailers-only
   * response).
   */
  readonly responseHeader: Metadata;
  /** Response trailers, sent with the status, on success and on error. */
  readonly responseTrailer: Metadata;
  /** Send `responseHeader` now, before the first response message. Later calls do nothing. */
  sendHeader(): void;
  /** Milliseconds left until the deadline (never negative), or `undefined` without a deadline. */
  timeRemainingMs(): number | undefined;
}

/** The part of a grpc-js server call (of any kind) the context uses. */
export type SurfaceCall = Pick<ServerUnaryCall<unknown, unknown>, "metadata" | "getPeer" | "sendMetadata" | "getDeadline" | "cancelled"> & {
  on(event: "cancelled", listener: () => void): unknown;
  off(event: "cancelled", listener: () => void): unknown;
};

/** What every call of one method shares (built once, when the service is registered). */
export interface ServedMethod {
  readonly method: DescMethod;
  /** `methodPath(method)`. */
  readonly path: string;
  /** The registered server's drain state; undefined outside a registered server. */
  readonly server?: Pick<ServerState, "draining">;
  /** Called once by `finish()` (a concurrency slot, see server-limits.ts). */
  readonly release?: () => void;
}

/** The `draining` signal of calls served outside a registered server: never aborts. */
const neverAborted: AbortSignal = new AbortController().signal;

/** The largest delay setTimeout accepts (about 24.8 days). */
const maxTimerDelayMs = 2 ** 31 - 1;

/**
 * A client cancels a call on its own deadline with RST_STREAM, exactly as it
 * cancels one on purpose. The server's copy of the deadline (arrival time +
 * `grpc-timeout`, rounded up) is later than the client's by the request's
 * transit time, so that RST_STREAM often arrives a few milliseconds before
 * it. A cancellation this close to the deadline (in ms) is therefore taken
 * as the deadline passing (DEADLINE_EXCEEDED), not as CANCELLED.
 */
const deadlineSlackMs = 20;

/**
 * One call being served: the context given to the handler, plus the
 * bookkeeping the method adapters need (`abortReason()`, `flushHeader()`,
 * `finish()`, `errorTrailers()`). Call `finish()` once the handler is done.
 *
 * Most calls never look at their signal or metadata, so nothing is allocated
 * before it is used: the AbortController (and its `cancelled` listener and
 * deadline timer) on the first read of `signal`, the response metadata on
 * the first read of `responseHeader` / `responseTrailer`. Until then `abortReason()` reads the cancellation
 * from grpc-js' `call.cancelled` and the deadline from the clock; a call
 * cancelled or expired before the first read of `signal` gets an aborted
 * signal with the same reason.
 */
export class ServerCall implements HandlerContext {
  readonly deadline: number | undefined;
  principal: unknown = undefined;
  private controller: AbortController | undefined = undefined;
  private reason: GrpcError | undefined = undefined;
  private header: Metadata | undefined = undefined;
  private trailer: Metadata | undefined = undefined;
  private headerSent = false;
  private done = false;
  private timer: NodeJS.Timeout | undefined = undefined;
  private listener: (() => void) | undefined = undefined;
  private identity: PeerIdentity | undefined | null = null;
  /** grpc-js's record of the connection, taken when the call started; `undefined` on a grpc-js without one (then `peerText` is read at once). */
  private readonly connection: ConnectionInfoLike | undefined;
  private peerText: string | undefined;

  constructor(
    private readonly call: SurfaceCall,
    protected readonly served: ServedMethod,
  ) {
    const deadline = toEpochMs(call.getDeadline());
    this.deadline = deadline;
    // grpc-js knows the peer only while the stream is open: without its connection record, read it now.
    this.connection = connectionInfoOf(call);
    this.peerText = this.connection === undefined ? call.getPeer() : undefined;
    // With a deadline, a cancellation is told apart from an expiry by the time it arrives.
    if (deadline !== undefined) this.listen();
  }

  get method(): DescMethod {
    return this.served.method;
  }

  get peer(): string {
    if (this.peerText === undefined) this.peerText = peerOf(this.connection as ConnectionInfoLike);
    return this.peerText;
  }

  get path(): string {
    return this.served.path;
  }

  get requestMetadata(): Metadata {
    return this.call.metadata;
  }

  get signal(): AbortSignal {
    let controller = this.controller;
    if (controller === undefined) {
      controller = this.controller = new AbortController();
      setMaxListeners(0, controller.signal); // every downstream call the handler makes listens to it (propagation): no MaxListenersExceededWarning
      const reason = this.abortReason();
      if (reason !== undefined) controller.abort(reason);
      else if (!this.done) this.watch();
    }
    return controller.signal;
  }

  get draining(): AbortSignal {
    return this.served.server?.draining ?? neverAborted;
  }

  get peerIdentity(): PeerIdentity | undefined {
    if (this.identity === null) this.identity = peerIdentity(authContextOf(this.call));
    return this.identity;
  }

  get responseHeader(): Metadata {
    return (this.header ??= new Metadata());
  }

  get responseTrailer(): Metadata {
    return (this.trailer ??= new Metadata());
  }

  /** The response trailers, or undefined when nobody touched them. */
  get trailerIfAny(): Metadata | undefined {
    return this.trailer;
  }

  /** True once `finish()` ran. */
  get finished(): boolean {
    return this.done;
  }

  sendHeader(): void {
    if (this.headerSent || this.done) return;
    this.headerSent = true;
    this.call.sendMetadata(this.responseHeader);
  }

  /** The runtime's `sendHeader()`: the same, but sends nothing when no header was set (grpc-js then sends its defaults with the first message). */
  flushHeader(): void {
    if (this.headerSent || this.done) return;
    this.headerSent = true;
    if (this.header !== undefined) this.call.sendMetadata(this.header);
  }

  timeRemainingMs(): number | undefined {
    return this.deadline === undefined ? undefined : Math.max(0, this.deadline - Date.now());
  }

  /** Why the call ended early (CANCELLED or DEADLINE_EXCEEDED), or undefined while it is live; fixed once `finish()` ran. */
  abortReason(): GrpcError | undefined {
    if (this.reason !== undefined || this.done) return this.reason;
    if (this.call.cancelled) return this.abort(Status.CANCELLED, "call cancelled");
    if (this.deadline !== undefined && Date.now() >= this.deadline) return this.abort(Status.DEADLINE_EXCEEDED, "deadline exceeded");
    return undefined;
  }

  /** Stop the deadline timer and ignore later cancellation. Idempotent. */
  finish(): void {
    if (this.done) return;
    this.done = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.listener !== undefined) this.call.off("cancelled", this.listener);
    this.served.release?.();
  }

  /** Trailers to send with an error: the response trailers, plus the headers if they were never sent. */
  errorTrailers(): Metadata {
    if (this.headerSent || this.header === undefined) return this.responseTrailer;
    const md = this.header.clone();
    if (this.trailer !== undefined) mergeMetadata(md, this.trailer);
    return md;
  }

  private abort(code: Status, message: string): GrpcError {
    const reason = (this.reason = new GrpcError(code, message));
    this.controller?.abort(reason);
    return reason;
  }

  private listen(): void {
    this.listener = () => {
      if (this.done || this.reason !== undefined) return;
      const expired = this.deadline !== undefined && Date.now() >= this.deadline - deadlineSlackMs;
      if (expired) this.abort(Status.DEADLINE_EXCEEDED, "deadline exceeded");
      else this.abort(Status.CANCELLED, "call cancelled");
    };
    this.call.on("cancelled", this.listener);
  }

  /** Someone holds the signal: abort it when the call is cancelled or its deadline passes. */
  private watch(): void {
    if (this.listener === undefined) this.listen();
    if (this.deadline === undefined) return;
    const delay = this.deadline - Date.now();
    if (delay > maxTimerDelayMs) return;
    this.timer = setTimeout(() => {
      if (!this.done && this.reason === undefined) this.abort(Status.DEADLINE_EXCEEDED, "deadline exceeded");
    }, delay);
    this.timer.unref();
  }
}

function toEpochMs(deadline: Date | number): number | undefined {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? ms : undefined;
}

/** The addresses grpc-js' server call records when it starts (`getConnectionInfo()`: grpc-js 1.14 has it, grpc-node PR #2922). */
interface ConnectionInfoLike {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
}

/**
 * The connection record of a grpc-js surface call (`ServerUnaryCall` and the
 * stream kinds), reached through its intercepting call (`call.call`, not
 * public API): grpc-js reads the socket's addresses once per call anyway,
 * so the peer costs nothing until it is read. `undefined` when this grpc-js
 * has no such record.
 */
function connectionInfoOf(call: object): ConnectionInfoLike | undefined {
  const inner = (call as { call?: { getConnectionInfo?: unknown } }).call;
  if (typeof inner?.getConnectionInfo !== "function") return undefined;
  const info: unknown = inner.getConnectionInfo();
  return typeof info === "object" && info !== null ? (info as ConnectionInfoLike) : undefined;
}

/**
 * `host:port` of the remote end: `127.0.0.1:53412`, an IPv6 address in
 * brackets (`[::1]:53412`, RFC 3986 host syntax; grpc-js `getPeer()` leaves
 * them out), the address alone without a port, `unknown` without an address.
 */
function peerOf(info: ConnectionInfoLike): string {
  const { remoteAddress, remotePort } = info;
  if (!remoteAddress) return "unknown";
  if (!remotePort) return remoteAddress;
  return remoteAddress.includes(":") ? `[${remoteAddress}]:${remotePort}` : `${remoteAddress}:${remotePort}`;
}
