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
export interface Attempt {
  /** Cancel the attempt (the call is over or was cancelled). */
  cancel(): void;
  /** True once the response started (headers or a message): the call is committed to this attempt. */
  readonly committed: boolean;
}

/** Called once when an attempt ended: `null` on success, else what it failed with. */
export type AttemptDone = (error: unknown) => void;

/** Called once when the call's attempts are over: the attempt that succeeded, or the error to surface. */
export type AttemptsFinished<A> = (error: GrpcError | undefined, winner: A | undefined) => void;

/**
 * Run attempts one after another until one succeeds or retrying must stop,
 * then call `finish` once: with the attempt that succeeded, or with the last
 * attempt's error, or with CANCELLED (or the upstream reason) when a signal
 * aborts. Each attempt is cancelled when a signal aborts; a pending backoff
 * sleep ends at once, leaving no timer. Callback-based, so a call that
 * succeeds at once allocates no promise here.
 */
export function runWithRetries<A extends Attempt>(
  controller: RetryController,
  signals: readonly AbortSignal[],
  startAttempt: (done: AttemptDone) => A,
  finish: AttemptsFinished<A>,
): void {
  let backoffMs = 0;
  let previous: CallResult | undefined;
  const next = (): void => {
    const aborted = firstAborted(signals);
    if (aborted) return finish(abortedError(aborted), undefined);
    controller.begin(backoffMs, previous);
    let abortedBy: AbortSignal | undefined;
    let unlink = noop;
    let attempt: A | undefined;
    const onDone = (err: unknown): void => {
      unlink();
      if (err === null) {
        controller.succeeded();
        return finish(undefined, attempt);
      }
      if (abortedBy) return finish(abortedError(abortedBy), undefined);
      const error = grpcErrorFromServiceError(err);
      const delay = controller.retryDelay(error, attempt!.committed);
      if (delay === undefined) return finish(error, undefined);
      backoffMs = delay;
      previous = { code: error.code, message: error.rawMessage, error };
      sleep(delay, signals).then(next, (sleepErr: unknown) => finish(grpcErrorFromServiceError(sleepErr), undefined));
    };
    // an attempt that ends while it is being started reports once it is known
    attempt = startAttempt((err) => (attempt === undefined ? queueMicrotask(() => onDone(err)) : onDone(err)));
    const a = attempt;
    unlink = onAnyAbort(signals, (s) => {
      abortedBy = s;
      a.cancel();
    });
  };
  next();
}

function noop(): void {}
