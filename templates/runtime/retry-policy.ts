import type { DescMethod } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Status } from "./grpc-error.js";

/**
 * Retry, hedging and throttling policies of gRFC A6 ("gRPC Retry Design"),
 * with durations in milliseconds. Generated clients carry the defaults from
 * the plugin options in a per-service table; a client (ClientOptions) and a
 * call (CallOptions) can override them.
 */

/** gRFC A6 `retryPolicy`. Applied only to methods with `idempotency_level` IDEMPOTENT or NO_SIDE_EFFECTS. */
export interface RetryPolicy {
  /** Attempts in total, the first included; >= 1 (1 = no retries). Plugin default 5. */
  readonly maxAttempts: number;
  /** Backoff before the first retry, ms, > 0. Plugin default 100. */
  readonly initialBackoffMs: number;
  /** Cap of the backoff, ms, >= initialBackoffMs. Plugin default 1000. */
  readonly maxBackoffMs: number;
  /** Growth factor of the backoff per retry, > 0. Plugin default 2. */
  readonly backoffMultiplier: number;
  /** Status codes that allow a retry; only the codes in `retryableStatusCodes` below. Plugin default [UNAVAILABLE]. */
  readonly retryableCodes: readonly Status[];
}

/** gRFC A6 `hedgingPolicy`. Applied only to unary methods with `idempotency_level` NO_SIDE_EFFECTS. */
export interface HedgingPolicy {
  /** Attempts in total, the first included; >= 1. Plugin default 3. */
  readonly maxAttempts: number;
  /** Delay between hedged attempts, ms, >= 0. Plugin default 100. */
  readonly hedgingDelayMs: number;
  /** Codes after which the next hedged attempt starts at once; any other failure ends the call. Plugin default [UNAVAILABLE]. */
  readonly nonFatalCodes: readonly Status[];
}

/** gRFC A6 `retryThrottling`: a token bucket per client (channel). */
export interface ThrottlePolicy {
  /** Bucket size, in (0, 1000]. Each failed attempt takes 1 token; retries and hedges stop while tokens <= maxTokens / 2. Plugin default 10. */
  readonly maxTokens: number;
  /** Tokens each successful call gives back, in (0, 1]. Plugin default 0.1. */
  readonly tokenRatio: number;
}

/** Per-method settings of a generated service's table. */
export interface MethodPolicy {
  /** Default timeout of the method's calls, ms; undefined = no default deadline. */
  readonly timeoutMs?: number;
}

/** The policy table a generated client passes to its transport. */
export interface ServicePolicies {
  /** Retry policy for idempotent methods; undefined = policy retries off. */
  readonly retry?: RetryPolicy;
  /** Hedging policy for NO_SIDE_EFFECTS unary methods; undefined = off. */
  readonly hedging?: HedgingPolicy;
  /** Retry throttling; undefined = off. */
  readonly throttling?: ThrottlePolicy;
  /** Default timeout of every call, ms; undefined = none. */
  readonly timeoutMs?: number;
  /** Per-method overrides by `localName`. */
  readonly methods?: Readonly<Record<string, MethodPolicy>>;
}

/** Codes a policy may name: every other code (INVALID_ARGUMENT, FAILED_PRECONDITION, PERMISSION_DENIED, ...) means the request itself is wrong and is never retried. */
export const retryableStatusCodes: readonly Status[] = [
  Status.UNAVAILABLE,
  Status.RESOURCE_EXHAUSTED,
  Status.ABORTED,
  Status.INTERNAL,
  Status.UNKNOWN,
];

/** The defaults of the plugin options, also used when a client overrides only part of a policy. */
export const defaultRetryPolicy: RetryPolicy = Object.freeze({
  maxAttempts: 5,
  initialBackoffMs: 100,
  maxBackoffMs: 1000,
  backoffMultiplier: 2,
  retryableCodes: Object.freeze([Status.UNAVAILABLE]),
});
export const defaultHedgingPolicy: HedgingPolicy = Object.freeze({
  maxAttempts: 3,
  hedgingDelayMs: 100,
  nonFatalCodes: Object.freeze([Status.UNAVAILABLE]),
});
export const defaultThrottlePolicy: ThrottlePolicy = Object.freeze({ maxTokens: 10, tokenRatio: 0.1 });

/**
 * Problems with a retry policy, as sentences (empty = valid). Shared by the
 * plugin (errors naming the method) and the runtime (RangeError).
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
  problems.push(...checkCodes("nonFatalCodes", p.nonFatalCodes));
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
