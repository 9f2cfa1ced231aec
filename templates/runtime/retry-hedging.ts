import { GrpcError, grpcErrorFromServiceError } from "./grpc-error.js";
import { abortedError, firstAborted, onAnyAbort } from "./deadline.js";
import { serverPushbackMs } from "./error-details.js";
import type { HedgingPolicy } from "./retry-policy.js";
import type { RetryThrottle } from "./retry-throttle.js";
import type { Attempt, RetryController } from "./retry.js";

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
 * to `maxAttempts` in flight over the call. A failure with a non-fatal code
 * starts the next attempt at once (or after the server's pushback; a
 * negative pushback stops hedging); any other failure, or the first success,
 * ends the call and cancels the other attempts. The throttle gates every
 * attempt after the first. Every attempt is reported to the `attempt` hooks.
 */
export function runHedged<T>(
  controller: RetryController,
  plan: HedgingPlan,
  signals: readonly AbortSignal[],
  startAttempt: () => Attempt<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const inFlight = new Set<Attempt<T>>();
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    let lastError: GrpcError | undefined;
    let stopHedging = false;
    let lastStart = Date.now();

    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      unlink();
      for (const a of inFlight) a.cancel();
      inFlight.clear();
      fn();
    };
    const canStartMore = () =>
      !done && !stopHedging && controller.attempt < plan.policy.maxAttempts && (plan.throttle?.allowsRetry() ?? true);
    const schedule = (delayMs: number) => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (!canStartMore() || Date.now() + delayMs >= plan.deadline) return;
      timer = setTimeout(launch, delayMs);
    };
    const launch = () => {
      timer = undefined;
      if (done) return;
      const now = Date.now();
      const backoffMs = controller.attempt === 0 ? 0 : now - lastStart;
      lastStart = now;
      const previous = lastError && { code: lastError.code, message: lastError.rawMessage, error: lastError };
      controller.begin(backoffMs, previous);
      const attempt = startAttempt();
      inFlight.add(attempt);
      attempt.result.then(
        (value) => {
          plan.throttle?.recordSuccess();
          finish(() => resolve(value));
        },
        (err: unknown) => onFailure(attempt, grpcErrorFromServiceError(err)),
      );
      schedule(plan.policy.hedgingDelayMs);
    };
    const onFailure = (attempt: Attempt<T>, error: GrpcError) => {
      inFlight.delete(attempt);
      if (done) return;
      lastError = error;
      const nonFatal = plan.policy.nonFatalCodes.includes(error.code) && !attempt.committed;
      if (nonFatal) plan.throttle?.recordFailure();
      if (!nonFatal) return finish(() => reject(error));
      const pushback = serverPushbackMs(error);
      if (pushback !== undefined && pushback < 0) stopHedging = true;
      if (pushback !== undefined && pushback >= 0) schedule(pushback);
      else if (!stopHedging) schedule(0);
      if (inFlight.size === 0 && timer === undefined) finish(() => reject(error));
    };
    const unlink = onAnyAbort(signals, (s) => finish(() => reject(abortedError(s))));
    const aborted = firstAborted(signals);
    if (aborted) return finish(() => reject(abortedError(aborted)));
    launch();
  });
}
