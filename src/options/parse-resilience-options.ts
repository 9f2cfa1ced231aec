/**
 * Plugin options of resilient clients (gRFC A6 retries, hedging, throttling;
 * default deadlines). Durations are in milliseconds. Values are parsed here
 * strictly (a bad number names the key); whether they make a valid policy is
 * checked per service by `buildServicePolicyModel`, naming the method.
 */
export interface ResilienceOptions {
  /** `retry_max_attempts`, default 5: attempts in total for idempotent methods; 1 turns policy retries off. */
  readonly retryMaxAttempts: number;
  /** `retry_initial_backoff_ms`, default 100. */
  readonly retryInitialBackoffMs: number;
  /** `retry_max_backoff_ms`, default 1000. */
  readonly retryMaxBackoffMs: number;
  /** `retry_backoff_multiplier`, default 2. */
  readonly retryBackoffMultiplier: number;
  /** `retry_codes`, status code names joined by `|`, default `UNAVAILABLE`. */
  readonly retryCodes: readonly string[];
  /** `retry_throttle_max_tokens`, default 10; 0 turns throttling off. */
  readonly retryThrottleMaxTokens: number;
  /** `retry_throttle_token_ratio`, default 0.1. */
  readonly retryThrottleTokenRatio: number;
  /** `hedging`, default false: hedge NO_SIDE_EFFECTS unary methods instead of retrying them. */
  readonly hedging: boolean;
  /** `hedging_max_attempts`, default 3. */
  readonly hedgingMaxAttempts: number;
  /** `hedging_delay_ms`, default 100. */
  readonly hedgingDelayMs: number;
  /** `timeout_ms`, default 0 (none): default deadline of every call, from its start. */
  readonly timeoutMs: number;
  /**
   * `method_timeouts`, default none: per service or method default timeouts,
   * `pkg.Svc:500|pkg.Svc.Method:200` (the method entry wins over the service's).
   */
  readonly methodTimeouts: Readonly<Record<string, number>>;
}

export const defaultResilienceOptions: ResilienceOptions = Object.freeze({
  retryMaxAttempts: 5,
  retryInitialBackoffMs: 100,
  retryMaxBackoffMs: 1000,
  retryBackoffMultiplier: 2,
  retryCodes: Object.freeze(["UNAVAILABLE"]),
  retryThrottleMaxTokens: 10,
  retryThrottleTokenRatio: 0.1,
  hedging: false,
  hedgingMaxAttempts: 3,
  hedgingDelayMs: 100,
  timeoutMs: 0,
  methodTimeouts: Object.freeze({}),
});

type Parse = (value: string, key: string) => Partial<ResilienceOptions>;

/** Parsers of the resilience option keys, for the plugin's option table. */
export const resilienceParsers: Readonly<Record<string, Parse>> = {
  retry_max_attempts: (v, k) => ({ retryMaxAttempts: parseNumber(v, k) }),
  retry_initial_backoff_ms: (v, k) => ({ retryInitialBackoffMs: parseNumber(v, k) }),
  retry_max_backoff_ms: (v, k) => ({ retryMaxBackoffMs: parseNumber(v, k) }),
  retry_backoff_multiplier: (v, k) => ({ retryBackoffMultiplier: parseNumber(v, k) }),
  retry_codes: (v, k) => ({ retryCodes: parseList(v, k) }),
  retry_throttle_max_tokens: (v, k) => ({ retryThrottleMaxTokens: parseNumber(v, k) }),
  retry_throttle_token_ratio: (v, k) => ({ retryThrottleTokenRatio: parseNumber(v, k) }),
  hedging: (v, k) => ({ hedging: parseFlag(v, k) }),
  hedging_max_attempts: (v, k) => ({ hedgingMaxAttempts: parseNumber(v, k) }),
  hedging_delay_ms: (v, k) => ({ hedgingDelayMs: parseNumber(v, k) }),
  timeout_ms: (v, k) => ({ timeoutMs: parseNumber(v, k) }),
  method_timeouts: (v, k) => ({ methodTimeouts: parseTimeouts(v, k) }),
};

function parseNumber(value: string, key: string): number {
  if (!/^\d+(\.\d+)?$/.test(value)) throw new Error(`option "${key}" takes a number >= 0, not "${value}"`);
  return Number(value);
}

function parseFlag(value: string, key: string): boolean {
  if (value === "" || value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new Error(`option "${key}" takes true or false, not "${value}"`);
}

function parseList(value: string, key: string): string[] {
  const items = value.split("|");
  if (items.some((i) => !/^[A-Z_]+$/.test(i))) throw new Error(`option "${key}" takes status code names joined by "|", e.g. UNAVAILABLE|RESOURCE_EXHAUSTED, not "${value}"`);
  return items;
}

function parseTimeouts(value: string, key: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of value.split("|")) {
    const m = /^([A-Za-z_][\w.]*):(\d+)$/.exec(entry);
    if (!m) throw new Error(`option "${key}" takes entries "pkg.Service:ms" or "pkg.Service.Method:ms" joined by "|", not "${entry}"`);
    if (m[1]! in out) throw new Error(`option "${key}" names ${m[1]} twice`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}
