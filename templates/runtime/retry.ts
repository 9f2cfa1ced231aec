import { GrpcError, grpcErrorFromServiceError } from "./grpc-error.js";
import { abortedError, firstAborted, onAnyAbort, sleep } from "./deadline.js";
import { serverPushbackMs } from "./error-details.js";
import type { AttemptInfo, CallResult, ComposedClientHooks } from "./hooks.js";
import { backoffDelayMs, type RetryPolicy } from "./retry-policy.js";
import type { RetryThrottle } from "./retry-throttle.js";

/**
 * The retry loop of gRFC A6, owned by the runtime (grpc-js's own policy
 * retries stay off: the channel gets no `retryPolicy`; grpc-js keeps only its
 * transparent retries of attempts that never reached the server's handler).
 */

/** What decides whether and when a failed attempt is retried. */
export interface RetryPlan {
  /** The policy, or undefined when the method is not retried (not idempotent, or retries off). */
  readonly policy: RetryPolicy | undefined;
  readonly throttle: RetryThrottle | undefined;
  /** The call's absolute deadline, ms since the Unix epoch; Infinity = none. */
  readonly deadline: number;
  readonly hooks: ComposedClientHooks;
  /** Source of jitter in [0, 1); default Math.random. */
  readonly random?: () => number;
}

/**
 * Counts the attempts of one call, tells the hooks about each one, and
 * decides after a failure whether to retry and after how long.
 */
export class RetryController {
  /** The number of the attempt in flight (1 = first). */
  attempt = 0;
  private backoffRetry = 0;

  constructor(private readonly plan: RetryPlan) {}

  /** An attempt starts: count it and call the `attempt` hooks. */
  begin(backoffMs: number, previous?: CallResult): void {
    this.attempt++;
    const info: AttemptInfo = previous === undefined ? { attempt: this.attempt, backoffMs } : { attempt: this.attempt, backoffMs, previous };
    this.plan.hooks.attempt(info);
  }

  /** The call succeeded (gives a token back to the throttle). */
  succeeded(): void {
    if (this.plan.policy !== undefined) this.plan.throttle?.recordSuccess();
  }

  /**
   * After a failed attempt: milliseconds to wait before the next one, or
   * undefined to give up and surface `error`. No retry when the response had
   * started (`committed`: headers or a message received), the code is not
   * in the policy, attempts are used up, the server's pushback says no, the
   * throttle is below half, or the wait would reach the deadline.
   */
  retryDelay(error: GrpcError, committed: boolean): number | undefined {
    const policy = this.plan.policy;
    if (policy === undefined || !policy.retryableCodes.includes(error.code)) return undefined;
    this.plan.throttle?.recordFailure();
    if (committed || this.attempt >= policy.maxAttempts) return undefined;
    if (this.plan.throttle !== undefined && !this.plan.throttle.allowsRetry()) return undefined;
    const pushback = serverPushbackMs(error);
    if (pushback !== undefined && pushback < 0) return undefined;
    let delay: number;
    if (pushback !== undefined) {
      delay = pushback;
      this.backoffRetry = 0; // gRFC A6: after pushback, backoff starts again from initialBackoff
    } else {
      this.backoffRetry++;
      delay = backoffDelayMs(policy, this.backoffRetry, this.plan.random);
    }
    if (Date.now() + delay >= this.plan.deadline) return undefined;
    return delay;
  }
}

/** One attempt of a unary-like call. */
export interface Attempt<T> {
  readonly result: Promise<T>;
  /** Cancel the attempt (the call is over or was cancelled). */
  cancel(): void;
  /** True once the response started (headers or a message): the call is committed to this attempt. */
  readonly committed: boolean;
}

/**
 * Run attempts one after another until one succeeds or retrying must stop.
 * Each attempt is cancelled when a signal aborts; a pending backoff sleep
 * ends at once with CANCELLED (or the upstream reason), leaving no timer.
 */
export async function runWithRetries<T>(
  controller: RetryController,
  signals: readonly AbortSignal[],
  startAttempt: () => Attempt<T>,
): Promise<T> {
  let backoffMs = 0;
  let previous: CallResult | undefined;
  for (;;) {
    const aborted = firstAborted(signals);
    if (aborted) throw abortedError(aborted);
    controller.begin(backoffMs, previous);
    const attempt = startAttempt();
    let abortedBy: AbortSignal | undefined;
    const unlink = onAnyAbort(signals, (s) => {
      abortedBy = s;
      attempt.cancel();
    });
    let error: GrpcError;
    try {
      const value = await attempt.result;
      controller.succeeded();
      return value;
    } catch (err) {
      if (abortedBy) throw abortedError(abortedBy);
      error = grpcErrorFromServiceError(err);
    } finally {
      unlink();
    }
    const delay = controller.retryDelay(error, attempt.committed);
    if (delay === undefined) throw error;
    await sleep(delay, signals);
    backoffMs = delay;
    previous = { code: error.code, message: error.rawMessage, error };
  }
}
