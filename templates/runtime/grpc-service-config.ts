import type { DescMethod } from "@bufbuild/protobuf";
import { Status } from "./grpc-error.js";
import {
  assertValid,
  checkHedgingPolicy,
  checkRetryPolicy,
  checkThrottlePolicy,
  defaultRetryPolicy,
  isHedgeable,
  isIdempotent,
  type HedgingPolicy,
  type RetryPolicy,
  type ThrottlePolicy,
} from "./retry-policy.js";

/**
 * Call policies in the standard gRPC service config format
 * (https://github.com/grpc/grpc/blob/master/doc/service_config.md, gRFC A6
 * for `retryPolicy` / `hedgingPolicy` / `retryThrottling`), as a JSON object
 * or its JSON text. Durations are protobuf JSON durations: strings such as
 * `"0.1s"` or `"5s"`. Status codes are names (`"UNAVAILABLE"`) or numbers.
 *
 * The runtime executes `methodConfig` and `retryThrottling` itself (grpc-js
 * never sees them, so nothing is retried twice); `loadBalancingConfig` is
 * passed through to grpc-js (e.g. `[{ "round_robin": {} }]`).
 */
export interface GrpcServiceConfig {
  readonly methodConfig?: readonly GrpcMethodConfig[];
  readonly retryThrottling?: { readonly maxTokens: number; readonly tokenRatio: number };
  /** Passed to grpc-js unchanged. */
  readonly loadBalancingConfig?: readonly object[];
}

/** One `methodConfig` entry. */
export interface GrpcMethodConfig {
  /** `{ service, method }` names (fully qualified service); without `method`: every method of the service; `{}`: every method. */
  readonly name: readonly { readonly service?: string; readonly method?: string }[];
  /** Default timeout of the calls, e.g. `"2.5s"`. */
  readonly timeout?: string;
  readonly retryPolicy?: {
    readonly maxAttempts: number;
    readonly initialBackoff: string;
    readonly maxBackoff: string;
    readonly backoffMultiplier: number;
    readonly retryableStatusCodes: readonly (string | number)[];
  };
  readonly hedgingPolicy?: {
    readonly maxAttempts: number;
    readonly hedgingDelay?: string;
    readonly nonFatalStatusCodes?: readonly (string | number)[];
  };
}

/** What one call of a method will do. */
export interface MethodPlan {
  /** Undefined when the method is not retried (no idempotency_level, or a policy with maxAttempts 1). */
  readonly retry: RetryPolicy | undefined;
  /** Undefined unless a hedgingPolicy applies and the method is NO_SIDE_EFFECTS unary. */
  readonly hedging: HedgingPolicy | undefined;
  /** Default timeout in milliseconds when the call sets no deadline; undefined = none. */
  readonly timeoutMs: number | undefined;
}

/** A parsed, validated service config. */
export interface CallPolicies {
  /** The plan of a method: the most specific `methodConfig` entry (method, then service, then `{}`), limited by the proto's idempotency_level. */
  planFor(method: DescMethod): MethodPlan;
  readonly throttling: ThrottlePolicy | undefined;
  /** The `grpc.service_config` JSON for grpc-js (only `loadBalancingConfig`), or undefined. */
  readonly channelServiceConfig: string | undefined;
}

/**
 * Parse and validate a service config. Without one, or without an entry for
 * a method: idempotent methods (idempotency_level IDEMPOTENT or
 * NO_SIDE_EFFECTS) are retried with `defaultRetryPolicy`, no hedging, no
 * throttling, no timeout (as grpc-js and grpc-go do with no throttling
 * configured). A method without idempotency_level is never retried nor
 * hedged, whatever the config says.
 *
 * @throws TypeError on malformed JSON or shapes; RangeError on invalid values (naming the field).
 */
export function parseServiceConfig(input: GrpcServiceConfig | string | undefined): CallPolicies {
  const config: GrpcServiceConfig = typeof input === "string" ? parseJson(input) : (input ?? {});
  if (typeof config !== "object" || config === null) throw new TypeError("serviceConfig must be an object or its JSON text");
  const byName = new Map<string, MethodPlanParts>();
  for (const [i, entry] of (config.methodConfig ?? []).entries()) {
    const parts = methodParts(entry, `methodConfig[${i}]`);
    for (const n of entry.name ?? []) {
      const key = n.service ? (n.method ? `${n.service}/${n.method}` : n.service) : "";
      if (byName.has(key)) throw new RangeError(`serviceConfig: methodConfig name ${JSON.stringify(n)} appears twice`);
      byName.set(key, parts);
    }
  }
  const throttling = config.retryThrottling === undefined ? undefined : { ...config.retryThrottling };
  if (throttling) assertValid("serviceConfig retryThrottling", checkThrottlePolicy(throttling));
  const lb = config.loadBalancingConfig;
  const cache = new Map<DescMethod, MethodPlan>();
  return {
    throttling,
    channelServiceConfig: lb === undefined ? undefined : JSON.stringify({ loadBalancingConfig: lb }),
    planFor(method) {
      let plan = cache.get(method);
      if (plan === undefined) {
        const parts = byName.get(`${method.parent.typeName}/${method.name}`) ?? byName.get(method.parent.typeName) ?? byName.get("");
        plan = planOf(method, parts);
        cache.set(method, plan);
      }
      return plan;
    },
  };
}

interface MethodPlanParts {
  readonly retry: RetryPolicy | undefined;
  readonly hedging: HedgingPolicy | undefined;
  readonly timeoutMs: number | undefined;
}

function planOf(method: DescMethod, parts: MethodPlanParts | undefined): MethodPlan {
  const idempotent = isIdempotent(method);
  const hedging = idempotent && isHedgeable(method) ? parts?.hedging : undefined;
  const retry = !idempotent || hedging !== undefined ? undefined : (parts?.retry ?? (parts?.hedging ? undefined : defaultRetryPolicy));
  return { retry: retry && retry.maxAttempts > 1 ? retry : undefined, hedging, timeoutMs: parts?.timeoutMs };
}

function methodParts(entry: GrpcMethodConfig, where: string): MethodPlanParts {
  if (!Array.isArray(entry.name)) throw new TypeError(`serviceConfig ${where}: name must be an array`);
  if (entry.retryPolicy && entry.hedgingPolicy) throw new RangeError(`serviceConfig ${where}: retryPolicy and hedgingPolicy are mutually exclusive`);
  const timeoutMs = entry.timeout === undefined ? undefined : durationMs(entry.timeout, `${where}.timeout`);
  let retry: RetryPolicy | undefined;
  if (entry.retryPolicy) {
    const r = entry.retryPolicy;
    retry = {
      maxAttempts: Math.min(r.maxAttempts, 5), // gRFC A6: values above 5 are treated as 5
      initialBackoffMs: durationMs(r.initialBackoff, `${where}.retryPolicy.initialBackoff`),
      maxBackoffMs: durationMs(r.maxBackoff, `${where}.retryPolicy.maxBackoff`),
      backoffMultiplier: r.backoffMultiplier,
      retryableCodes: codes(r.retryableStatusCodes, `${where}.retryPolicy.retryableStatusCodes`),
    };
    assertValid(`serviceConfig ${where}.retryPolicy`, checkRetryPolicy(retry));
  }
  let hedging: HedgingPolicy | undefined;
  if (entry.hedgingPolicy) {
    const h = entry.hedgingPolicy;
    hedging = {
      maxAttempts: Math.min(h.maxAttempts, 5),
      hedgingDelayMs: h.hedgingDelay === undefined ? 0 : durationMs(h.hedgingDelay, `${where}.hedgingPolicy.hedgingDelay`),
      nonFatalCodes: codes(h.nonFatalStatusCodes ?? [], `${where}.hedgingPolicy.nonFatalStatusCodes`),
    };
    assertValid(`serviceConfig ${where}.hedgingPolicy`, checkHedgingPolicy(hedging));
  }
  return { retry, hedging, timeoutMs };
}

/**
 * A protobuf JSON duration (`"1.5s"`, `"0.000340012s"`) in milliseconds.
 *
 * @throws RangeError naming `where` for anything else.
 */
export function durationMs(value: unknown, where: string): number {
  const m = typeof value === "string" ? /^(\d+)(\.\d{1,9})?s$/.exec(value) : null;
  if (!m) throw new RangeError(`serviceConfig ${where} must be a duration such as "0.1s", got ${JSON.stringify(value)}`);
  return Number(m[1]) * 1000 + Number(`0${m[2] ?? ""}`) * 1000;
}

function codes(list: readonly (string | number)[], where: string): Status[] {
  if (!Array.isArray(list)) throw new TypeError(`serviceConfig ${where} must be an array of status codes`);
  return list.map((c) => {
    const n = typeof c === "number" ? c : (Status as unknown as Record<string, number>)[String(c).toUpperCase()];
    if (typeof n !== "number" || Status[n] === undefined) throw new RangeError(`serviceConfig ${where}: unknown status code ${JSON.stringify(c)}`);
    return n;
  });
}

function parseJson(text: string): GrpcServiceConfig {
  try {
    return JSON.parse(text) as GrpcServiceConfig;
  } catch (err) {
    throw new TypeError(`serviceConfig is not valid JSON: ${(err as Error).message}`);
  }
}
