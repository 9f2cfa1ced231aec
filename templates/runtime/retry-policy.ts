import type { DescMethod } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Status } from "./grpc-error.js";

/**
 * Retry, hedging and throttling policies of gRFC A6 ("gRPC Retry Design"),
 * with durations in milliseconds, as parsed from a client's `serviceConfig`
 * (see grpc-service-config.ts). The one set of defaults is here.
 */

/** gRFC A6 `retryPolicy`. Applied only to methods with `idempotency_level` IDEMPOTENT or NO_SIDE_EFFECTS. */
export interface RetryPolicy {
  /** Attempts in total, the first included; >= 1 (1 = no retries). Default 5. */
  readonly maxAttempts: number;
  /** Backoff before the first retry, ms, > 0. Default 100. */
  readonly initialBackoffMs: number;
  /** Cap of the backoff, ms, >= initialBackoffMs. Default 1000. */
  readonly maxBackoffMs: number;
  /** Growth factor of the backoff per retry, > 0. Default 2. */
  readonly backoffMultiplier: number;
  /** Status codes that allow a retry; only the codes in `retryableStatusCodes` below. Default [UNAVAILABLE]. */
  readonly retryableCodes: readonly Status[];
}

/** gRFC A6 `hedgingPolicy`. Applied only to unary methods with `idempotency_level` NO_SIDE_EFFECTS. */
export interface HedgingPolicy {
  /** Attempts in total, the first included; 1 to 5 (gRFC A6 caps higher values at 5). No default: set by `hedgingPolicy`. */
  readonly maxAttempts: number;
  /** Delay between hedged attempts, ms, >= 0 (`hedgingDelay`, default 0). */
  readonly hedgingDelayMs: number;
  /** Codes after which the next hedged attempt starts at once; any other failure ends the call (`nonFatalStatusCodes`, default none). */
  readonly nonFatalCodes: readonly Status[];
}

/** gRFC A6 `retryThrottling`: a token bucket per client (channel). */
export interface ThrottlePolicy {
  /** Bucket size, in (0, 1000]. Each failed attempt takes 1 token; retries and hedges stop while tokens <= maxTokens / 2. No default: throttling is off unless `retryThrottling` is configured. */
  readonly maxTokens: number;
  /** Tokens each successful call gives back, in (0, 1]. */
  readonly tokenRatio: number;
}

/** Codes a policy may name: every other code (INVALID_ARGUMENT, FAILED_PRECONDITION, PERMISSION_DENIED, ...) means the request itself is wrong and is never retried. */
export const retryableStatusCodes: readonly Status[] = [
  Status.UNAVAILABLE,
  Status.RESOURCE_EXHAUSTED,
  Status.ABORTED,
  Status.INTERNAL,
  Status.UNKNOWN,
];

/**
 * The retry policy of idempotent methods (idempotency_level IDEMPOTENT or
 * NO_SIDE_EFFECTS) that no `methodConfig` entry covers: 5 attempts, backoff
 * 0.1 s doubling up to 1 s (full jitter), on UNAVAILABLE only.
 */
export const defaultRetryPolicy: RetryPolicy = Object.freeze({
  maxAttempts: 5,
  initialBackoffMs: 100,
  maxBackoffMs: 1000,
  backoffMultiplier: 2,
  retryableCodes: Object.freeze([Status.UNAVAILABLE]),
});
/**
 * Problems with a retry policy, as sentences (empty = valid).
 */
export function checkRetryPolicy(p: RetryPolicy): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(p.maxAttempts) || p.maxAttempts < 1) problems.push(`maxAttempts must be an integer >= 1, got ${p.maxAttempts}`);
  if (!(p.initialBackoffMs > 0)) problems.push(`initialBackoffMs must be > 0, got ${p.initialBackoffMs}`);
  if (!(p.maxBackoffMs >= p.initialBackoffMs)) problems.push(`maxBackoffMs must be >= initialBackoffMs (${p.initialBackoffMs}), got ${p.maxBackoffMs}`);
  if (!(p.backoffMultiplier > 0)) problems.push(`backoffMultiplier must be > 0, got ${p.backoffMultiplier}`);
  problems.push(...checkCodes("retryableCodes", p.retryableCodes));
  return problems;
}

/** Problems with a hedging policy (empty = valid). */
export function checkHedgingPolicy(p: HedgingPolicy): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(p.maxAttempts) || p.maxAttempts < 1) problems.push(`maxAttempts must be an integer >= 1, got ${p.maxAttempts}`);
  if (!(p.hedgingDelayMs >= 0)) problems.push(`hedgingDelayMs must be >= 0, got ${p.hedgingDelayMs}`);
  if (p.nonFatalCodes.length > 0) problems.push(...checkCodes("nonFatalCodes", p.nonFatalCodes));
  return problems;
}

/** Problems with a throttle policy (empty = valid). */
export function checkThrottlePolicy(p: ThrottlePolicy): string[] {
  const problems: string[] = [];
  if (!(p.maxTokens > 0 && p.maxTokens <= 1000)) problems.push(`maxTokens must be in (0, 1000], got ${p.maxTokens}`);
  if (!(p.tokenRatio > 0 && p.tokenRatio <= 1)) problems.push(`tokenRatio must be in (0, 1], got ${p.tokenRatio}`);
  return problems;
}

function checkCodes(name: string, codes: readonly Status[]): string[] {
  if (codes.length === 0) return [`${name} must name at least one status code`];
  const bad = codes.filter((c) => !retryableStatusCodes.includes(c));
  if (bad.length === 0) return [];
  const allowed = retryableStatusCodes.map((c) => Status[c]).join(", ");
  return [`${name} may only contain ${allowed}; ${bad.map((c) => Status[c] ?? c).join(", ")} is never retried`];
}

/** Throw a RangeError listing the problems, if any. */
export function assertValid(what: string, problems: readonly string[]): void {
  if (problems.length > 0) throw new RangeError(`invalid ${what}: ${problems.join("; ")}`);
}

/**
 * The exponential backoff before retry number `retry` (1 = first retry) with
 * full jitter (gRFC A6): uniform in [0, min(initial * multiplier^(retry-1), max)).
 * `random` returns [0, 1); default Math.random.
 */
export function backoffDelayMs(p: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(p.initialBackoffMs * p.backoffMultiplier ** (retry - 1), p.maxBackoffMs);
  return random() * ceiling;
}

/** Whether the method's `idempotency_level` allows policy retries (IDEMPOTENT or NO_SIDE_EFFECTS). */
export function isIdempotent(method: DescMethod): boolean {
  return (
    method.idempotency === MethodOptions_IdempotencyLevel.IDEMPOTENT ||
    method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS
  );
}

/** Whether the method may be hedged: NO_SIDE_EFFECTS and unary. */
export function isHedgeable(method: DescMethod): boolean {
  return method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS && method.methodKind === "unary";
}
