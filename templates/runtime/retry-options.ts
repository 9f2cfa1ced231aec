import type { DescMethod } from "@bufbuild/protobuf";
import {
  assertValid,
  checkHedgingPolicy,
  checkRetryPolicy,
  checkThrottlePolicy,
  defaultHedgingPolicy,
  defaultRetryPolicy,
  defaultThrottlePolicy,
  isHedgeable,
  isIdempotent,
  type HedgingPolicy,
  type RetryPolicy,
  type ServicePolicies,
  type ThrottlePolicy,
} from "./retry-policy.js";

/**
 * How ClientOptions and CallOptions override the policy table a generated
 * client carries (plugin option defaults). Precedence: call > client >
 * generated table. `false` turns a feature off; an object overrides the
 * fields it names (the rest come from the level below, or the defaults).
 */
export interface ResilienceOverrides {
  /** Retry policy for idempotent methods, or false for no policy retries. */
  readonly retry?: Partial<RetryPolicy> | false;
  /** Hedging for NO_SIDE_EFFECTS unary methods: true / an object turns it on, false off. */
  readonly hedging?: Partial<HedgingPolicy> | boolean;
}

/** Client-level overrides: the above, plus throttling and the default timeout. */
export interface ClientResilienceOverrides extends ResilienceOverrides {
  /** Retry throttling (one token bucket per client), or false for none. */
  readonly retryThrottling?: Partial<ThrottlePolicy> | false;
  /** Default timeout of every call, ms (the call's own `deadline` / `timeoutMs` win); 0 or more. */
  readonly timeoutMs?: number;
}

/** What one call of a method will do. */
export interface MethodPlan {
  /** Undefined when the method is not retried (not idempotent, or retries off). */
  readonly retry: RetryPolicy | undefined;
  /** Undefined unless hedging is on and the method is NO_SIDE_EFFECTS unary. */
  readonly hedging: HedgingPolicy | undefined;
  /** Default timeout, ms, when the call sets no deadline; undefined = none. */
  readonly timeoutMs: number | undefined;
}

/**
 * Apply a client's overrides to a generated table. Validates the result.
 *
 * @throws RangeError naming the bad field.
 */
export function resolveClientPolicies(table: ServicePolicies, o: ClientResilienceOverrides): ServicePolicies {
  if (o.timeoutMs !== undefined && !(o.timeoutMs >= 0)) throw new RangeError(`timeoutMs must be a number >= 0, got ${o.timeoutMs}`);
  const throttling = o.retryThrottling === false ? undefined : merge(table.throttling ?? defaultThrottlePolicy, o.retryThrottling, table.throttling);
  if (throttling) assertValid("retryThrottling", checkThrottlePolicy(throttling));
  const timeoutMs = o.timeoutMs ?? table.timeoutMs;
  return {
    retry: overrideRetry(table.retry, o.retry),
    hedging: overrideHedging(table.hedging, o.hedging),
    throttling,
    timeoutMs: timeoutMs === 0 ? undefined : timeoutMs,
    methods: o.timeoutMs !== undefined ? undefined : table.methods,
  };
}

/** The plan of one call from the client's resolved policies and the call's overrides. */
export function planMethod(p: ServicePolicies, method: DescMethod, call: ResilienceOverrides): MethodPlan {
  const retry = call.retry === undefined ? p.retry : overrideRetry(p.retry, call.retry);
  const hedging = call.hedging === undefined ? p.hedging : overrideHedging(p.hedging, call.hedging);
  const timeoutMs = p.methods?.[method.localName]?.timeoutMs ?? p.timeoutMs;
  return {
    retry: retry !== undefined && isIdempotent(method) ? retry : undefined,
    hedging: hedging !== undefined && isHedgeable(method) ? hedging : undefined,
    timeoutMs,
  };
}

function overrideRetry(base: RetryPolicy | undefined, o: Partial<RetryPolicy> | false | undefined): RetryPolicy | undefined {
  if (o === false) return undefined;
  if (o === undefined) return base;
  const p = { ...(base ?? defaultRetryPolicy), ...o };
  assertValid("retry policy", checkRetryPolicy(p));
  return p;
}

function overrideHedging(base: HedgingPolicy | undefined, o: Partial<HedgingPolicy> | boolean | undefined): HedgingPolicy | undefined {
  if (o === false) return undefined;
  if (o === undefined) return base;
  if (o === true) return base ?? defaultHedgingPolicy;
  const p = { ...(base ?? defaultHedgingPolicy), ...o };
  assertValid("hedging policy", checkHedgingPolicy(p));
  return p;
}

function merge<T>(fallback: T, o: Partial<T> | undefined, base: T | undefined): T | undefined {
  if (o === undefined) return base;
  return { ...fallback, ...o };
}

/**
 * Refuse grpc-js channel options that would make grpc-js retry too: a
 * `grpc.service_config` with a `retryPolicy`, `hedgingPolicy` or
 * `retryThrottling` unless the client turned the runtime's own retries off
 * with `retry: false` ("never retry twice over"). Also turns off service configs from DNS TXT records
 * (`grpc.service_config_disable_resolution`) unless the user set that option.
 *
 * @throws TypeError when both retry layers would be active.
 */
export function guardChannelOptions(options: Record<string, unknown>, overrides: ResilienceOverrides): Record<string, unknown> {
  const runtimeRetries = overrides.retry !== false || (overrides.hedging !== undefined && overrides.hedging !== false);
  const config = options["grpc.service_config"];
  if (runtimeRetries && typeof config === "string" && /"(retryPolicy|hedgingPolicy|retryThrottling)"/.test(config)) {
    throw new TypeError(
      "grpc.service_config sets retryPolicy/hedgingPolicy/retryThrottling while the client's own retries are on; " +
        "pass { retry: false, hedging: false } to use grpc-js retries instead, or drop them from the service config",
    );
  }
  if (!runtimeRetries || "grpc.service_config_disable_resolution" in options) return options;
  return { ...options, "grpc.service_config_disable_resolution": 1 };
}
