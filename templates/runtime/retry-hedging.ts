import { GrpcError, grpcErrorFromServiceError } from "./grpc-error.js";
import { abortedError, firstAborted, onAnyAbort } from "./deadline.js";
import { serverPushbackMs } from "./error-details.js";
import type { HedgingPolicy } from "./retry-policy.js";
import type { RetryThrottle } from "./retry-throttle.js";
import type { Attempt, AttemptDone, AttemptsFinished, RetryController } from "./retry.js";

/** What a hedged call needs besides its attempts. */
export interface HedgingPlan {
  readonly policy: HedgingPolicy;
  readonly throttle: RetryThrottle | undefined;
  /** The call's absolute deadline, ms since the Unix epoch; Infinity = none. */
  readonly deadline: number;
}

/**
 * Hedging (gRFC A6) for NO_SIDE_EFFECTS unary methods: start an attempt, and
 * another every `hedgingDelayMs` while none has succeeded or committed, up
 * to `maxAttempts` over the call. A failure with a non-fatal code starts the
 * next attempt at once, or after the server's pushback when it sent one (a
 * negative pushback stops hedging; attempts in flight go on). When an
 * attempt commits (its response headers arrive), the other attempts are
 * cancelled at once and no new one starts: that attempt's outcome is the
 * call's. The first success wins and cancels the others; any other failure
 * ends the call. The throttle gates every attempt after the first. Every
 * attempt is reported to the `attempt` hooks. Calls `finish` once, with
 * the attempt that succeeded or the error to surface.
 *
 * `startAttempt` gets the callback to call when its attempt ended, and the
 * one to call when it commits.
 */
export function runHedged<A extends Attempt>(
  controller: RetryController,
  plan: HedgingPlan,
  signals: readonly AbortSignal[],
  startAttempt: (done: AttemptDone, onCommit: () => void) => A,
  finish: AttemptsFinished<A>,
): void {
  const inFlight = new Set<A>();
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  let committed: A | undefined;
  let lastError: GrpcError | undefined;
  let stopHedging = false;
  let lastStart = Date.now();

  const clearTimer = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const cancelOthers = (keep: A | undefined) => {
    for (const a of inFlight) if (a !== keep) a.cancel();
    inFlight.clear();
  };
  const end = (error: GrpcError | undefined, winner: A | undefined) => {
    if (done) return;
    done = true;
    clearTimer();
    unlink();
    cancelOthers(winner);
    finish(error, winner);
  };
  const canStartMore = () =>
    !done && !stopHedging && committed === undefined && controller.attempt < plan.policy.maxAttempts && (plan.throttle?.allowsRetry() ?? true);
  const schedule = (delayMs: number) => {
    clearTimer();
    if (!canStartMore() || Date.now() + delayMs >= plan.deadline) return;
    timer = setTimeout(launch, delayMs);
  };
  const onCommit = (attempt: A) => {
    if (done || committed !== undefined) return;
    committed = attempt;
    clearTimer();
    cancelOthers(attempt);
  };
  const launch = () => {
    timer = undefined;
    if (done) return;
    const now = Date.now();
    const backoffMs = controller.attempt === 0 ? 0 : now - lastStart;
    lastStart = now;
    const previous = lastError && { code: lastError.code, message: lastError.rawMessage, error: lastError };
    controller.begin(backoffMs, previous);
    let attempt: A | undefined;
    const onDone = (err: unknown) => {
      if (err !== null) return onFailure(attempt!, grpcErrorFromServiceError(err));
      if (done) return;
      plan.throttle?.recordSuccess();
      inFlight.delete(attempt!);
      end(undefined, attempt);
    };
    attempt = startAttempt(
      (err) => (attempt === undefined ? queueMicrotask(() => onDone(err)) : onDone(err)),
      () => onCommit(attempt!),
    );
    inFlight.add(attempt);
    schedule(plan.policy.hedgingDelayMs);
  };
  const onFailure = (attempt: A, error: GrpcError) => {
    inFlight.delete(attempt);
    if (done || (committed !== undefined && committed !== attempt)) return;
    lastError = error;
    const nonFatal = plan.policy.nonFatalCodes.includes(error.code) && !attempt.committed;
    if (nonFatal) plan.throttle?.recordFailure();
    if (!nonFatal) return end(error, undefined);
    const pushback = serverPushbackMs(error);
    if (pushback !== undefined && pushback < 0) {
      stopHedging = true;
      clearTimer();
    } else schedule(pushback ?? 0);
    if (inFlight.size === 0 && timer === undefined) end(error, undefined);
  };
  const unlink = onAnyAbort(signals, (s) => end(abortedError(s), undefined));
  const aborted = firstAborted(signals);
  if (aborted) return end(abortedError(aborted), undefined);
  launch();
}
