// With no SDK registered the hooks step aside: no per-call callbacks, no span, nothing injected.
import { describe, expect, it } from "vitest";
import { Metadata } from "@grpc/grpc-js";
import { propagation } from "@opentelemetry/api";
import { W3CBaggagePropagator } from "@opentelemetry/core";
import { createClientTelemetryHook, createServerTelemetryHook } from "@grpckit/runtime/telemetry";
import { generateFixtures } from "./support/fixture.js";

describe("no SDK registered", () => {
  it("client and server hooks return no per-call callbacks and leave metadata alone", async () => {
    const pb = await import(`${generateFixtures(["demo/v1/echo.proto"])}/demo/v1/echo_pb.ts`);
    const method = pb.EchoService.method.echo;
    const metadata = new Metadata();
    expect(createClientTelemetryHook({ target: "127.0.0.1:1" })({ method, metadata, deadline: Infinity, signals: [] })).toBeUndefined();
    expect(metadata.toJSON()).toEqual({});
    const handler = { requestMetadata: new Metadata(), peer: "127.0.0.1:5" } as never;
    expect(createServerTelemetryHook()(method, handler)).toBeUndefined();

    // A propagator alone (no SDK): the server still makes the caller's context (e.g. baggage) active.
    propagation.setGlobalPropagator(new W3CBaggagePropagator());
    try {
      const md = new Metadata();
      md.set("baggage", "tenant=t1");
      const hooks = createServerTelemetryHook()(method, { requestMetadata: md, peer: "127.0.0.1:5" } as never)!;
      expect(typeof hooks.around).toBe("function");
      expect([hooks.request, hooks.response, hooks.end]).toEqual([undefined, undefined, undefined]);
      expect(hooks.around!(() => propagation.getActiveBaggage()?.getEntry("tenant")?.value)).toBe(undefined); // no context manager: nothing to carry it
    } finally {
      propagation.disable();
    }
  });
});
