import type { Client, Metadata, ServiceError, StatusObject } from "@grpc/grpc-js";
import type { AttemptHandle, AttemptSink, OpenAttempt } from "./call-engine.js";
import type { methodDefinition } from "./definition.js";
import { passThrough, sendRequests, type AttemptState, type RequestReplay } from "./request-replay.js";

type Definition = ReturnType<typeof methodDefinition>;

/**
 * The attempts of each method kind, as the call engine (call-engine.ts)
 * opens them: one grpc-js call per attempt, its events reported to the
 * engine's sink. Each adapter only translates events; retry, commit and
 * settling are the engine's.
 *
 * @internal
 */
export interface AttemptTarget {
  readonly client: Client;
  readonly def: Definition;
  /** Absolute deadline, ms since the Unix epoch (Infinity = none): the same for all attempts, so `grpc-timeout` shrinks. */
  readonly deadline: number;
}

interface GrpcCall {
  cancel(): void;
  getPeer(): string;
  on(event: "metadata", l: (md: Metadata) => void): unknown;
  on(event: "status", l: (s: StatusObject) => void): unknown;
}

/** The handle of one grpc-js call (a class: no closures per attempt). */
class CallHandle implements AttemptHandle {
  constructor(protected readonly call: GrpcCall) {}

  cancel(): void {
    this.call.cancel();
  }

  peer(): string {
    try {
      const p = this.call.getPeer();
      return p === "unknown" ? "" : p;
    } catch {
      return "";
    }
  }
}

/** The handle of a streaming call: backpressure, and the request side's commit. */
class StreamHandle extends CallHandle {
  constructor(
    call: GrpcCall,
    private readonly stream: { pause(): unknown; resume(): unknown } | undefined,
    private readonly replay: RequestReplay | undefined,
  ) {
    super(call);
  }

  requestsCommitted(): boolean {
    return this.replay !== undefined && (this.replay.overflowed || this.replay.failed);
  }

  pause(): void {
    this.stream?.pause();
  }

  resume(): void {
    this.stream?.resume();
  }
}

/** Unary attempts of `message`. */
export function unaryAttempts(t: AttemptTarget, message: unknown): OpenAttempt {
  return (metadata, sink) => {
    let error: ServiceError | null = null;
    let value: unknown;
    const call = t.client.makeUnaryRequest(t.def.path, t.def.requestSerialize, t.def.responseDeserialize, message, metadata, { deadline: t.deadline }, (err, v) => {
      if (err) error = err;
      else value = v;
    });
    call.on("metadata", (md: Metadata) => sink.header(md));
    // grpc-js calls the callback before it emits "status" (an OK status can come with an error: no response message)
    call.on("status", (s: StatusObject) => {
      if (error === null && s.code === 0) sink.message(value);
      sink.status(error ?? (s.code === 0 ? null : s), s.metadata);
    });
    return new CallHandle(call);
  };
}

/**
 * Client-streaming attempts: each sends the requests from `replay` (the
 * kept ones first). Pulling a request that fails ends the call with that
 * error (`sink.fail`).
 */
export function clientStreamAttempts(t: AttemptTarget, replay: RequestReplay): OpenAttempt {
  return (metadata, sink) => {
    const state: AttemptState = { ended: false };
    let outcome: { err: ServiceError | null; value: unknown } | undefined;
    const call = t.client.makeClientStreamRequest(t.def.path, passThrough, t.def.responseDeserialize, metadata, { deadline: t.deadline }, (err, value) => {
      outcome = { err, value };
    });
    call.on("metadata", (md: Metadata) => sink.header(md));
    call.on("status", (s: StatusObject) => {
      state.ended = true;
      const err = outcome?.err ?? (s.code === 0 ? null : s);
      if (err === null) sink.message(outcome?.value);
      sink.status(err, s.metadata);
    });
    sendRequests(call, replay, state).catch((error: unknown) => {
      if (state.ended) return;
      sink.fail(error);
    });
    return new StreamHandle(call, undefined, replay);
  };
}

/** The readable side of a grpc-js server-streaming or bidi call. */
interface ResponseStream extends GrpcCall {
  on(event: string, l: (...args: never[]) => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/**
 * Report a response stream to the sink: each message, then the status once
 * both the status arrived and every message grpc-js buffered before it was
 * read ("end"), so a slow reader gets every message sent before the error.
 */
function readResponses(call: ResponseStream, sink: AttemptSink): void {
  let status: { error: unknown; trailer: Metadata } | undefined;
  let ended = false;
  let failure: unknown = null;
  const report = () => {
    if (status !== undefined && ended) sink.status(status.error, status.trailer);
  };
  call.on("metadata", (md: Metadata) => sink.header(md));
  call.on("data", (m: unknown) => sink.message(m));
  call.on("error", (err: unknown) => (failure = err)); // grpc-js emits it right after push(null), before the buffered messages are read
  call.on("end", () => {
    ended = true;
    report();
  });
  call.on("status", (s: StatusObject) => {
    status = { error: s.code === 0 ? null : (failure ?? s), trailer: s.metadata };
    report();
  });
}

/** Server-streaming attempts of `message`. */
export function serverStreamAttempts(t: AttemptTarget, message: unknown): OpenAttempt {
  return (metadata, sink) => {
    const call = t.client.makeServerStreamRequest(t.def.path, t.def.requestSerialize, t.def.responseDeserialize, message, metadata, { deadline: t.deadline });
    readResponses(call as unknown as ResponseStream, sink);
    return new StreamHandle(call, call, undefined);
  };
}

/** Bidi attempts: each sends the requests from `replay` and reads the responses. */
export function bidiAttempts(t: AttemptTarget, replay: RequestReplay): OpenAttempt {
  return (metadata, sink) => {
    const call = t.client.makeBidiStreamRequest(t.def.path, passThrough, t.def.responseDeserialize, metadata, { deadline: t.deadline });
    const state: AttemptState = { ended: false };
    call.once("status", () => (state.ended = true));
    readResponses(call as unknown as ResponseStream, sink);
    sendRequests(call, replay, state).catch((error: unknown) => {
      if (state.ended) return;
      sink.fail(error);
    });
    return new StreamHandle(call, call, replay);
  };
}
