import { describe, expect, it } from "vitest";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { tryProtoc, writeProtos } from "./support/protoc-result.js";

const proto = `syntax = "proto3";
package res.v1;
message Req { string id = 1; }
service Store {
  rpc Get(Req) returns (Req) { option idempotency_level = NO_SIDE_EFFECTS; }
  rpc Put(Req) returns (Req);
}
`;

function generate(opt: string) {
  const dir = writeProtos({ "res/v1/store.proto": proto });
  return tryProtoc([dir], ["res/v1/store.proto"], `target=ts,${opt}`);
}

describe("retry and deadline policies from plugin options", () => {
  const invalid: [string, RegExp][] = [
    ["retry_max_attempts=0", /retry_max_attempts must be an integer >= 1, got 0/],
    ["retry_initial_backoff_ms=0", /retry_initial_backoff_ms must be > 0/],
    ["retry_initial_backoff_ms=500,retry_max_backoff_ms=100", /retry_max_backoff_ms \(100\) must be >= retry_initial_backoff_ms \(500\)/],
    ["retry_backoff_multiplier=0", /retry_backoff_multiplier must be > 0/],
    ["retry_codes=UNAVAILABLE|INVALID_ARGUMENT", /INVALID_ARGUMENT is never retried/],
    ["retry_throttle_token_ratio=2", /retry_throttle_token_ratio must be in \(0, 1\]/],
    ["hedging=true,hedging_max_attempts=0", /hedging_max_attempts must be an integer >= 1/],
  ];
  for (const [opt, message] of invalid) {
    it(`rejects ${opt}, naming the file and the rpc`, () => {
      const r = generate(opt);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain("res/v1/store.proto: rpc res.v1.Store.Get:");
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(existsSync(join(r.out, "res/v1/store_grpckit.ts"))).toBe(false);
    });
  }

  it("carries valid policies into the generated policy table", () => {
    const r = generate("retry_max_attempts=4,retry_codes=UNAVAILABLE|RESOURCE_EXHAUSTED,method_timeouts=res.v1.Store.Put:250");
    expect(r.stderr).toBe("");
    const out = readFileSync(join(r.out, "res/v1/store_grpckit.ts"), "utf8");
    expect(out).toContain("StoreRuntimeConfig");
    expect(out).toMatch(/maxAttempts: 4/);
    expect(out).toMatch(/RESOURCE_EXHAUSTED/);
    expect(out).toMatch(/put.*250|250.*put/s);
  });

  it("rejects a malformed option value, naming the key", () => {
    const r = generate("retry_max_attempts=many");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("retry_max_attempts");
  });
});
