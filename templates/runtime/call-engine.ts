import type { Metadata } from "@grpc/grpc-js";
import type { StartedCall } from "./call-setup.js";
import { abortedError, onAnyAbort } from "./deadline.js";
import { Status, grpcErrorFromServiceError, type GrpcError } from "./grpc-error.js";
import type { MethodPlan } from "./grpc-service-config.js";
import type { CallResult } from "./hooks.js";
import { RetryDecisions, attemptMetadata } from "./retry.js";
import type { RetryThrottle } from "./retry-throttle.js";

/** What an attempt reports to its call's engine. @internal */
export interface AttemptSink {
  /** Response headers arrived: the attempt commits. */
  header(header: Metadata): void;
  /** A response message arrived (commits the attempt). */
  message(message: unknown): void;
  /** The attempt is over: `null` for OK, else what it failed with (a grpc-js ServiceError), and its trailers. */
  status(error: unknown, trailer: Metadata | undefined): void;
  /** Sending the requests failed locally: the call ends with this error, unretried. */
  fail(error: unknown): void;
}

/** One attempt as the engine drives it. @internal */
export interface AttemptHandle {
  cancel(): void;
  /** The peer of the attempt (grpc-js `getPeer()`: `host:port`), `""` when unknown. */
  peer(): string;
  /** Whether the request side committed the call (retry buffer exceeded). */
  requestsCommitted?(): boolean;
  pause?(): void;
  resume?(): void;
}

/** Open one attempt with its own metadata copy; events go to `sink`. May throw (grpc-js throws synchronously on a closed channel). */
export type OpenAttempt = (metadata: Metadata, sink: AttemptSink) => AttemptHandle;

/** Who gets the call's outcome. @internal */
export interface CallConsumer {
  /** Messages of the committed attempt (streaming calls only). */
  message?(message: unknown): void;
  /** Called once: `error` is undefined on success, with the response of unary-like calls. */
  end(error: GrpcError | undefined, value: unknown): void;
}

/**
 * The client's open / closed state, shared by its calls. Only calls waiting
 * between attempts are registered (no per-call listener on a shared signal).
 *
 * @internal
 */
export class ClientLifecycle {
  closed = false;
  private readonly waiting = new Set<CallEngine>();

  /** A call waits for its next attempt. */
  wait(call: CallEngine): void {
    this.waiting.add(call);
  }

  /** It no longer waits. */
  unwait(call: CallEngine): void {
    this.waiting.delete(call);
  }

  /** Close: every call between attempts ends now (UNAVAILABLE); calls in flight are not retried. */
  close(): void {
    this.closed = true;
    for (const call of [...this.waiting]) call.clientClosed();
    this.waiting.clear();
  }
}

/** What one call's engine needs. @internal */
export interface CallEngineInit {
  readonly started: StartedCall;
  readonly plan: MethodPlan;
  readonly throttle: RetryThrottle | undefined;
  /** The client's state: once closed, no new attempt starts, and a backoff in progress ends the call with UNAVAILABLE. */
  readonly lifecycle: ClientLifecycle;
  readonly open: OpenAttempt;
  /** Streaming responses: deliver messages of the committed attempt as they arrive. */
  readonly streaming: boolean;
  /** Called once when the call is over (release the request replay). */
  readonly release?: () => void;
  readonly random?: () => number;
}

/** One attempt of a call: its state, and the sink its grpc-js events go to (a class: no closures per attempt). */
class AttemptRecord implements AttemptSink {
  handle: AttemptHandle | undefined;
  committed = false;
  value: unknown;
  trailer: Metadata | undefined;

  constructor(private readonly engine: CallEngine) {}

  header(header: Metadata): void {
    this.engine.onHeader(this, header);
  }

  message(message: unknown): void {
    this.engine.onMessage(this, message);
  }

  status(error: unknown, trailer: Metadata | undefined): void {
    this.engine.onStatus(this, error, trailer);
  }

  fail(error: unknown): void {
    this.engine.cancel(error);
  }
}

/**
 * One client call as a state machine (gRFC A6 retries and hedging): every
 * attempt is opened by `launch`, every ending (a status, the caller's
 * signal, an inherited deadline or cancellation, client.close(), a hook or
 * a request stream that throws) goes through `end`, which runs once: it
 * cancels the attempts still in flight, clears the backoff timer, removes
 * the abort listeners, ends the hooks and settles the consumer.
 *
 * @internal
 */
export class CallEngine {
  private decisionState: RetryDecisions | undefined;
  private readonly inFlight = new Set<AttemptRecord>();
  private committed: AttemptRecord | undefined;
  private attempts = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastStart = 0;
  private previous: CallResult | undefined;
  private stopHedging = false;
  private unlink: (() => void) | undefined;
  private ended = false;

  constructor(
    private readonly init: CallEngineInit,
    private readonly consumer: CallConsumer,
  ) {}

  /** The retry decisions, allocated on the first failure or hedge (most calls never need them). */
  private get decisions(): RetryDecisions {
    const { plan, throttle, random } = this.init;
    return (this.decisionState ??= new RetryDecisions(plan.retry, plan.hedging, throttle, random));
  }

  /** Start the call (the first attempt), unless it is already cancelled. */
  start(): void {
    const { started } = this.init;
    if (started.error !== undefined) return this.end(grpcErrorFromServiceError(started.error, "local"));
    for (const s of started.signals) if (s.aborted) return this.end(abortedError(s));
    this.unlink = onAnyAbort(started.signals, (s) => this.end(abortedError(s)));
    this.launch(0);
  }

  /** Whether the call is over. */
  get done(): boolean {
    return this.ended;
  }

  /** End the call from outside (the caller stopped reading, a response hook threw). */
  cancel(error: unknown): void {
    this.end(grpcErrorFromServiceError(error, "local"));
  }

  /** Backpressure of streaming calls: pause / resume the committed attempt. */
  pause(): void {
    this.committed?.handle?.pause?.();
  }

  resume(): void {
    this.committed?.handle?.resume?.();
  }

  private launch(backoffMs: number): void {
    if (this.timer !== undefined) this.init.lifecycle.unwait(this);
    this.timer = undefined;
    if (this.ended) return;
    if (this.init.lifecycle.closed) return this.end(closedError());
    const n = ++this.attempts;
    if (this.init.plan.hedging !== undefined) this.lastStart = Date.now();
    const rec = new AttemptRecord(this);
    try {
      this.init.started.hooks.attempt(this.previous === undefined ? { attempt: n, backoffMs } : { attempt: n, backoffMs, previous: this.previous });
      if (this.ended) return; // the hook cancelled the call (e.g. aborted its signal): no attempt starts after the end
      const md = attemptMetadata(this.init.started.metadata, n, this.init.started.deadline !== Infinity);
      this.inFlight.add(rec);
      rec.handle = this.init.open(md, rec);
    } catch (err) {
      this.inFlight.delete(rec);
      return this.end(grpcErrorFromServiceError(err, "local")); // a hook or grpc-js threw: a local failure, never retried
    }
    if (this.init.plan.hedging !== undefined && !this.ended) this.scheduleHedge(this.decisions.hedgingDelayMs);
  }

  /** @internal An attempt's response headers. */
  onHeader(rec: AttemptRecord, header: Metadata): void {
    if (this.ended || !this.commit(rec)) return;
    try {
      this.init.started.hooks.header(header);
      this.init.started.observers.onHeader?.(header);
    } catch (err) {
      this.cancel(err); // a header hook or onHeader threw (inside grpc-js' listener): a local failure of the call
    }
  }

  /** @internal An attempt's response message. */
  onMessage(rec: AttemptRecord, message: unknown): void {
    if (this.ended) return;
    rec.value = message;
    if (this.init.streaming && this.commit(rec)) this.consumer.message?.(message);
  }

  /** @internal An attempt's status. */
  onStatus(rec: AttemptRecord, error: unknown, trailer: Metadata | undefined): void {
    rec.trailer = trailer;
    this.inFlight.delete(rec);
    if (this.ended) return;
    if (error === null) return this.end(undefined, rec);
    this.attemptFailed(rec, grpcErrorFromServiceError(error));
  }

  /** Commit the call to `rec` (first header or message); false if another attempt has it. Hedging cancels the others. */
  private commit(rec: AttemptRecord): boolean {
    if (this.committed === undefined) {
      this.committed = rec;
      rec.committed = true;
      this.clearTimer();
      for (const other of this.inFlight) if (other !== rec) other.handle?.cancel();
    }
    return this.committed === rec;
  }

  private attemptFailed(rec: AttemptRecord, error: GrpcError): void {
    if (this.committed !== undefined && this.committed !== rec) return;
    this.previous = { code: error.code, message: error.rawMessage, error };
    const committed = rec.committed || (rec.handle?.requestsCommitted?.() ?? false);
    if (this.init.plan.hedging !== undefined) return this.hedgeFailed(rec, error, committed);
    const delay = this.init.lifecycle.closed ? undefined : this.decisions.retryDelay(error, committed, this.attempts, this.init.started.deadline);
    if (delay === undefined) return this.end(error, rec);
    this.setTimer(() => this.launch(delay), delay);
  }

  private hedgeFailed(rec: AttemptRecord, error: GrpcError, committed: boolean): void {
    const next = this.decisions.afterHedgeFailure(error, committed);
    if (next === "fatal") return this.end(error, rec);
    if (next === "stop") {
      this.stopHedging = true;
      this.clearTimer();
    } else this.scheduleHedge(next);
    if (this.inFlight.size === 0 && this.timer === undefined) this.end(error, rec);
  }

  private scheduleHedge(delayMs: number): void {
    this.clearTimer();
    if (this.stopHedging || this.committed !== undefined || this.init.lifecycle.closed || !this.decisions.mayHedge(this.attempts)) return;
    if (Date.now() + delayMs >= this.init.started.deadline) return;
    this.setTimer(() => this.launch(Date.now() - this.lastStart), delayMs);
  }

  /** The client was closed while this call waited for its next attempt (grpc-js semantics: attempts in flight go on). @internal */
  clientClosed(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined; // the lifecycle dropped this call already
    if (this.inFlight.size === 0) this.end(closedError());
  }

  private setTimer(fn: () => void, ms: number): void {
    this.timer = setTimeout(fn, ms);
    this.init.lifecycle.wait(this);
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.init.lifecycle.unwait(this);
  }

  /** The one ending of the call. */
  private end(error: GrpcError | undefined, last?: AttemptRecord): void {
    if (this.ended) return;
    this.ended = true;
    this.clearTimer();
    this.unlink?.();
    for (const rec of this.inFlight) if (rec !== last) rec.handle?.cancel();
    this.inFlight.clear();
    this.init.release?.();
    const { started } = this.init;
    const peer = last?.handle?.peer() || undefined;
    let failure = error;
    if (failure === undefined) {
      const { plan, throttle } = this.init;
      if (throttle !== undefined && (plan.retry !== undefined || plan.hedging !== undefined)) throttle.recordSuccess(); // gRFC A6
      try {
        if (!this.init.streaming) started.hooks.response(last?.value);
        started.succeed(last?.trailer, peer);
        return this.consumer.end(undefined, last?.value);
      } catch (err) {
        failure = grpcErrorFromServiceError(err, "local"); // a response hook or onTrailer threw
      }
    }
    let surfaced: GrpcError;
    try {
      surfaced = started.fail(failure, peer);
    } catch (err) {
      surfaced = grpcErrorFromServiceError(err, "local"); // an end hook or onTrailer threw: still settle the caller
    }
    this.consumer.end(surfaced, undefined);
  }
}

/** The error of a call that would start an attempt after client.close(). */
function closedError(): GrpcError {
  return grpcErrorFromServiceError({ code: Status.UNAVAILABLE, details: "the client was closed" }, "local");
}
