import type { ThrottlePolicy } from "./retry-policy.js";

/**
 * The retry throttle of gRFC A6: a token bucket shared by all calls of one
 * client. It starts full (`maxTokens`); every failed attempt whose code is
 * retryable takes 1 token, every successful call gives `tokenRatio` back
 * (never above `maxTokens`). Retries and hedged attempts are allowed only
 * while the bucket holds more than `maxTokens / 2`, so a backend that fails
 * everything sees at most about `maxTokens / 2` retries before the client
 * stops retrying and only sends first attempts.
 */
export class RetryThrottle {
  private tokens: number;

  constructor(readonly policy: ThrottlePolicy) {
    this.tokens = policy.maxTokens;
  }

  /** Tokens left (for tests and diagnostics). */
  get available(): number {
    return this.tokens;
  }

  /** May a retry or hedged attempt start now? */
  allowsRetry(): boolean {
    return this.tokens > this.policy.maxTokens / 2;
  }

  /** An attempt failed with a retryable (or non-fatal) code. */
  recordFailure(): void {
    this.tokens = Math.max(0, this.tokens - 1);
  }

  /** A call succeeded. */
  recordSuccess(): void {
    this.tokens = Math.min(this.policy.maxTokens, this.tokens + this.policy.tokenRatio);
  }
}
