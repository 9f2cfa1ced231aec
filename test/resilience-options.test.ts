import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Status, defaultRetryPolicy, durationMs, parseServiceConfig } from "@grpckit/runtime";
import { tryProtoc, writeProtos } from "./support/protoc-result.js";
import { loadFaults, loadFaultsPb } from "./support/fault-server.js";

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
  return tryProtoc([dir], ["res/v1/store.proto"], `target=ts${opt ? `,${opt}` : ""}`);
}

describe("the removed resilience plugin options", () => {
  const removed = ["retry_max_attempts=4", "retry_codes=UNAVAILABLE", "retry_throttle_max_tokens=10", "hedging=true", "timeout_ms=100", "method_timeouts=res.v1.Store:5"];
  for (const opt of removed) {
    it(`rejects ${opt}, naming the key and its service config replacement`, () => {
      const r = generate(opt);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(`option "${opt.split("=")[0]}" was removed`);
      expect(r.stderr).toMatch(/serviceConfig with (methodConfig|retryThrottling)/);
      expect(r.stderr).toContain("docs/resilience.md");
    });
  }

  it("generated code carries no policy table: only what the proto says (idempotency_level on the descriptors)", () => {
    const r = generate("");
    expect(r.stderr).toBe("");
    const out = readFileSync(join(r.out, "res/v1/store_grpckit.ts"), "utf8");
    expect(out).not.toMatch(/policies|maxAttempts|retry/);
  });
});

describe("parseServiceConfig (standard gRPC service config)", () => {
  it("durations are protobuf JSON durations, in milliseconds", () => {
    expect(durationMs("0.1s", "x")).toBe(100);
    expect(durationMs("5s", "x")).toBe(5000);
    expect(durationMs("0.000500s", "x")).toBeCloseTo(0.5);
    for (const bad of ["100ms", "1", 1, "-1s", ""]) expect(() => durationMs(bad, "x")).toThrow(RangeError);
  });

  it("validates shapes and values, naming the field", () => {
    expect(() => parseServiceConfig("{not json")).toThrow(TypeError);
    const retry = (p: object) => ({ methodConfig: [{ name: [{}], retryPolicy: { maxAttempts: 3, initialBackoff: "0.1s", maxBackoff: "1s", backoffMultiplier: 2, retryableStatusCodes: ["UNAVAILABLE"], ...p } }] });
    expect(() => parseServiceConfig(retry({ initialBackoff: "0s" }))).toThrow(/methodConfig\[0\]\.retryPolicy.*initialBackoffMs must be > 0/);
    expect(() => parseServiceConfig(retry({ retryableStatusCodes: ["INVALID_ARGUMENT"] }))).toThrow(/INVALID_ARGUMENT is never retried/);
    expect(() => parseServiceConfig(retry({ retryableStatusCodes: ["NOPE"] }))).toThrow(/unknown status code "NOPE"/);
    expect(() => parseServiceConfig({ retryThrottling: { maxTokens: 0, tokenRatio: 0.1 } })).toThrow(/maxTokens/);
    expect(() => parseServiceConfig({ methodConfig: [{ name: [{}] }, { name: [{}] }] })).toThrow(/appears twice/);
    const both = { methodConfig: [{ name: [{}], retryPolicy: retry({}).methodConfig[0]!.retryPolicy, hedgingPolicy: { maxAttempts: 2 } }] };
    expect(() => parseServiceConfig(both)).toThrow(/mutually exclusive/);
  });

  it("the most specific entry wins; idempotency_level gates retries and hedging; numbers or names for codes; loadBalancingConfig passes through", async () => {
    const desc = (await loadFaultsPb()).FaultService;
    const m = (name: string) => desc.methods.find((x: { name: string }) => x.name === name);
    const config = parseServiceConfig(
      JSON.stringify({
        methodConfig: [
          { name: [{}], timeout: "9s" },
          { name: [{ service: "resilience.v1.FaultService" }], timeout: "2s", retryPolicy: { maxAttempts: 9, initialBackoff: "0.2s", maxBackoff: "2s", backoffMultiplier: 3, retryableStatusCodes: [14, "aborted"] } },
          { name: [{ service: "resilience.v1.FaultService", method: "Get" }], hedgingPolicy: { maxAttempts: 2, hedgingDelay: "0.05s" } },
        ],
        retryThrottling: { maxTokens: 20, tokenRatio: 0.5 },
        loadBalancingConfig: [{ round_robin: {} }],
      }),
    );
    const put = config.planFor(m("Put"));
    expect(put.retry).toEqual({ maxAttempts: 5, initialBackoffMs: 200, maxBackoffMs: 2000, backoffMultiplier: 3, retryableCodes: [Status.UNAVAILABLE, Status.ABORTED] });
    expect(put.timeoutMs).toBe(2000);
    const get = config.planFor(m("Get"));
    expect(get.hedging).toEqual({ maxAttempts: 2, hedgingDelayMs: 50, nonFatalCodes: [] });
    expect(get.retry).toBeUndefined();
    expect(get.timeoutMs).toBeUndefined();
    // no idempotency_level: never retried, whatever the config says
    expect(config.planFor(m("Pay")).retry).toBeUndefined();
    expect(config.planFor(m("Pay")).hedging).toBeUndefined();
    expect(config.throttling).toEqual({ maxTokens: 20, tokenRatio: 0.5 });
    expect(JSON.parse(config.channelServiceConfig!)).toEqual({ loadBalancingConfig: [{ round_robin: {} }] });
    const none = parseServiceConfig(undefined);
    expect(none.planFor(m("Put")).retry).toBe(defaultRetryPolicy);
    expect(none.planFor(m("Pay")).retry).toBeUndefined();
    expect(none.throttling).toBeUndefined();
    expect(none.channelServiceConfig).toBeUndefined();
  });

  it("a client refuses a raw grpc.service_config with methodConfig (grpc-js would retry too)", async () => {
    const gen = await loadFaults();
    const { credentials } = await import("@grpc/grpc-js");
    const raw = JSON.stringify({ methodConfig: [{ name: [{}], retryPolicy: {} }] });
    expect(() => new gen.FaultServiceClient("127.0.0.1:1", credentials.createInsecure(), { "grpc.service_config": raw })).toThrow(/pass them as the client's serviceConfig/);
  });
});
