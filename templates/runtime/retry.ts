import type { Metadata } from "@grpc/grpc-js";
import { serverPushbackMs } from "./error-details.js";
import type { GrpcError } from "./grpc-error.js";
import { backoffDelayMs, type HedgingPolicy, type RetryPolicy } from "./retry-policy.js";
import type { RetryThrottle } from "./retry-throttle.js";

/**
 * The decisions of gRFC A6 for one call, without timers or I/O (the call
 * engine, call-engine.ts, acts on them): whether and when a failed attempt
 * is retried, whether another hedge may start.
 *
 * @internal
 */
export class RetryDecisions {
  private backoffRetry = 0;

  constructor(
    private readonly retry: RetryPolicy | undefined,
    private readonly hedging: HedgingPolicy | undefined,
    private readonly throttle: RetryThrottle | undefined,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * After attempt number `attempts` failed with `error`: milliseconds to
   * wait before the next one, or undefined to give up. No retry when the
   * call committed (response started, retry buffer exceeded), the code is not
   * retryable, attempts are used up, the server's pushback is negative, the
   * throttle is at or below half, or the wait would reach `deadline` (ms
   * since the epoch).
   */
  retryDelay(error: GrpcError, committed: boolean, attempts: number, deadline: number): number | undefined {
    const policy = this.retry;
    if (policy === undefined || !policy.retryableCodes.includes(error.code)) return undefined;
    this.throttle?.recordFailure();
    if (committed || attempts >= policy.maxAttempts) return undefined;
    if (this.throttle !== undefined && !this.throttle.allowsRetry()) return undefined;
    const pushback = serverPushbackMs(error);
    if (pushback !== undefined && pushback < 0) return undefined;
    let delay: number;
    if (pushback !== undefined) {
      delay = pushback;
      this.backoffRetry = 0; // gRFC A6: after pushback, backoff starts again from initialBackoff
    } else {
      this.backoffRetry++;
      delay = backoffDelayMs(policy, this.backoffRetry, this.random);
    }
    return Date.now() + delay >= deadline ? undefined : delay;
  }

  /** Whether a hedged attempt (number `attempts + 1`) may start now. */
  mayHedge(attempts: number): boolean {
    return this.hedging !== undefined && attempts < this.hedging.maxAttempts && (this.throttle?.allowsRetry() ?? true);
  }

  /** The delay between hedges, ms. */
  get hedgingDelayMs(): number {
    return this.hedging?.hedgingDelayMs ?? 0;
  }

  /**
   * After a hedged attempt failed: `"fatal"` ends the call with its error;
   * otherwise the delay before the next hedge (the server's pushback, or
   * 0), or `"stop"` (negative pushback: no more hedges, those in flight go on).
   */
  afterHedgeFailure(error: GrpcError, committed: boolean): number | "fatal" | "stop" {
    if (committed || !this.hedging!.nonFatalCodes.includes(error.code)) return "fatal";
    this.throttle?.recordFailure();
    const pushback = serverPushbackMs(error);
    if (pushback !== undefined && pushback < 0) return "stop";
    return pushback ?? 0;
  }
}

/** The request header of gRFC A6 that tells the server how many attempts came before this one. */
export const previousAttemptsKey = "grpc-previous-rpc-attempts";

/**
 * The metadata of attempt number `attempt` (1 = first): a copy of the
 * call's, with `grpc-previous-rpc-attempts` on retries and hedges (gRFC A6).
 * A retry of a call with a deadline waits for the channel to be ready
 * (grpc-js `waitForReady`) rather than failing fast while it reconnects:
 * the deadline and the call's cancellation bound the wait.
 *
 * @internal
 */
export function attemptMetadata(base: Metadata, attempt: number, hasDeadline: boolean): Metadata {
  const md = base.clone();
  if (attempt > 1) {
    md.set(previousAttemptsKey, String(attempt - 1));
    if (hasDeadline) md.setOptions({ ...md.getOptions(), waitForReady: true });
  }
  return md;
}
