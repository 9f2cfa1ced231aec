import type { DescFile } from "@bufbuild/protobuf";
import { userErrorAt } from "../errors.js";
import type { ResilienceOptions } from "../options/parse-resilience-options.js";
import type { ServiceModel } from "./service-model.js";

/**
 * The call policies of one service, as generated code carries them (gRFC A6
 * retryPolicy / hedgingPolicy / retryThrottling; durations in ms). Plain data,
 * printed by `emitServicePolicies`.
 */
export interface ServicePolicyModel {
  /** Undefined when no method of the service is idempotent or `retry_max_attempts=1`. */
  readonly retry?: {
    readonly maxAttempts: number;
    readonly initialBackoffMs: number;
    readonly maxBackoffMs: number;
    readonly backoffMultiplier: number;
    /** Status codes as [number, name] pairs, in option order. */
    readonly retryableCodes: readonly (readonly [number, string])[];
  };
  readonly hedging?: {
    readonly maxAttempts: number;
    readonly hedgingDelayMs: number;
    readonly nonFatalCodes: readonly (readonly [number, string])[];
  };
  readonly throttling?: { readonly maxTokens: number; readonly tokenRatio: number };
  readonly timeoutMs?: number;
  /** Per-method default timeouts by `localName`, sorted by name. */
  readonly methodTimeouts: readonly (readonly [string, number])[];
}

/** Status codes (grpc status code numbers) a policy may name; everything else is never retried. */
const retryableCodes: Readonly<Record<string, number>> = {
  UNKNOWN: 2,
  RESOURCE_EXHAUSTED: 8,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
};

/**
 * Build and validate a service's policies from the options. Errors name the
 * first method the policy applies to (`rpc pkg.Svc.Method`), or the service.
 *
 * @throws UserError for an invalid policy, e.g. `retry_max_attempts=0`.
 */
export function buildServicePolicyModel(file: DescFile, s: ServiceModel, o: ResilienceOptions): ServicePolicyModel {
  const idempotent = s.methods.filter((m) => m.idempotency !== "idempotency_unknown");
  const where = idempotent[0] ? `rpc ${s.desc.typeName}.${idempotent[0].desc.name}` : `service ${s.desc.typeName}`;
  const fail = (problem: string) => {
    throw userErrorAt(file.proto.name, where, problem);
  };
  if (!Number.isInteger(o.retryMaxAttempts) || o.retryMaxAttempts < 1) fail(`retry policy: retry_max_attempts must be an integer >= 1, got ${o.retryMaxAttempts}`);
  if (!(o.retryInitialBackoffMs > 0)) fail(`retry policy: retry_initial_backoff_ms must be > 0, got ${o.retryInitialBackoffMs}`);
  if (!(o.retryMaxBackoffMs >= o.retryInitialBackoffMs)) fail(`retry policy: retry_max_backoff_ms (${o.retryMaxBackoffMs}) must be >= retry_initial_backoff_ms (${o.retryInitialBackoffMs})`);
  if (!(o.retryBackoffMultiplier > 0)) fail(`retry policy: retry_backoff_multiplier must be > 0, got ${o.retryBackoffMultiplier}`);
  if (o.retryThrottleMaxTokens > 1000) fail(`retry throttling: retry_throttle_max_tokens must be in [0, 1000], got ${o.retryThrottleMaxTokens}`);
  if (!(o.retryThrottleTokenRatio > 0 && o.retryThrottleTokenRatio <= 1)) fail(`retry throttling: retry_throttle_token_ratio must be in (0, 1], got ${o.retryThrottleTokenRatio}`);
  if (!Number.isInteger(o.hedgingMaxAttempts) || o.hedgingMaxAttempts < 1) fail(`hedging policy: hedging_max_attempts must be an integer >= 1, got ${o.hedgingMaxAttempts}`);
  const codes = o.retryCodes.map((name): readonly [number, string] => {
    const n = retryableCodes[name];
    if (n === undefined) fail(`retry policy: retry_codes may only name ${Object.keys(retryableCodes).join(", ")}; ${name} is never retried`);
    return [n!, name];
  });
  const retry = idempotent.length > 0 && o.retryMaxAttempts > 1
    ? { maxAttempts: o.retryMaxAttempts, initialBackoffMs: o.retryInitialBackoffMs, maxBackoffMs: o.retryMaxBackoffMs, backoffMultiplier: o.retryBackoffMultiplier, retryableCodes: codes }
    : undefined;
  const hedgeable = s.methods.some((m) => m.idempotency === "no_side_effects" && m.kind === "unary");
  const hedging = o.hedging && hedgeable ? { maxAttempts: o.hedgingMaxAttempts, hedgingDelayMs: o.hedgingDelayMs, nonFatalCodes: codes } : undefined;
  const throttling = (retry || hedging) && o.retryThrottleMaxTokens > 0 ? { maxTokens: o.retryThrottleMaxTokens, tokenRatio: o.retryThrottleTokenRatio } : undefined;
  const serviceTimeout = o.methodTimeouts[s.desc.typeName] ?? (o.timeoutMs > 0 ? o.timeoutMs : undefined);
  const methodTimeouts = s.methods
    .map((m) => [m.localName, o.methodTimeouts[`${s.desc.typeName}.${m.desc.name}`]] as const)
    .filter((e): e is readonly [string, number] => e[1] !== undefined)
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
  return { retry, hedging, throttling, timeoutMs: serviceTimeout, methodTimeouts };
}
