/**
 * The plugin options of resilient clients that were removed: retry, hedging,
 * throttling and timeout policy is run-time configuration, given to a client
 * as a standard gRPC service config (`serviceConfig` client option), and the
 * proto's `idempotency_level` decides which methods may be retried at all.
 * Each removed key maps to the service config field that replaces it; a
 * parameter that still names one fails with that hint (docs/resilience.md,
 * "Migrating from the plugin options").
 */
export const removedResilienceOptions: Readonly<Record<string, string>> = {
  retry_max_attempts: "methodConfig[].retryPolicy.maxAttempts",
  retry_initial_backoff_ms: 'methodConfig[].retryPolicy.initialBackoff (a duration such as "0.1s")',
  retry_max_backoff_ms: 'methodConfig[].retryPolicy.maxBackoff (a duration such as "1s")',
  retry_backoff_multiplier: "methodConfig[].retryPolicy.backoffMultiplier",
  retry_codes: 'methodConfig[].retryPolicy.retryableStatusCodes (e.g. ["UNAVAILABLE"])',
  retry_throttle_max_tokens: "retryThrottling.maxTokens",
  retry_throttle_token_ratio: "retryThrottling.tokenRatio",
  hedging: "methodConfig[].hedgingPolicy",
  hedging_max_attempts: "methodConfig[].hedgingPolicy.maxAttempts",
  hedging_delay_ms: 'methodConfig[].hedgingPolicy.hedgingDelay (a duration such as "0.1s")',
  timeout_ms: 'methodConfig[].timeout with name [{ "service": "pkg.Service" }] (a duration such as "2s")',
  method_timeouts: 'methodConfig[].timeout with name [{ "service": "pkg.Service", "method": "Method" }]',
};

/** The error for a removed resilience option `key`, naming its replacement. */
export function removedResilienceOptionError(key: string): Error {
  return new Error(
    `option "${key}" was removed: call policies are run-time configuration now; ` +
      `pass the client a serviceConfig with ${removedResilienceOptions[key]} (see docs/resilience.md, "Migrating from the plugin options")`,
  );
}
