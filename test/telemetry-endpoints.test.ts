// server.address / server.port from the client's target, network.peer.* from
// the server's peer string: every target form of gRPC Name Resolution, and
// the attributes a client created with such a target puts on its spans.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Metadata } from "@grpc/grpc-js";
import { createClientTelemetryHook } from "@grpckit/runtime/telemetry";
import { buildPeerAttributes, parsePeer, parseTarget } from "../templates/runtime/telemetry/attributes.js";
import { generateFixtures } from "./support/fixture.js";
import { installTestSdk, type TestSdk } from "./support/telemetry-sdk.js";

describe("parseTarget", () => {
  it.each([
    ["api.example.com:8443", { address: "api.example.com", port: 8443 }],
    ["localhost:50051", { address: "localhost", port: 50051 }],
    ["127.0.0.1:50051", { address: "127.0.0.1", port: 50051 }],
    ["api.example.com", { address: "api.example.com", port: 443 }],
    ["dns:///api.example.com:8443", { address: "api.example.com", port: 8443 }],
    ["dns:api.example.com:8443", { address: "api.example.com", port: 8443 }],
    ["dns://8.8.8.8/api.example.com:8443", { address: "api.example.com", port: 8443 }],
    ["dns:///api.example.com", { address: "api.example.com", port: 443 }],
    ["[::1]:50051", { address: "::1", port: 50051 }],
    ["dns:///[2001:db8::1]:443", { address: "2001:db8::1", port: 443 }],
    ["ipv4:10.0.0.1:50051,10.0.0.2:50051", { address: "10.0.0.1", port: 50051 }],
    ["ipv6:[::1]:50051", { address: "::1", port: 50051 }],
    ["xds:///checkout.internal:8080", { address: "checkout.internal", port: 8080 }],
    ["unix:/tmp/grpc.sock", { address: "/tmp/grpc.sock" }],
    ["unix:///tmp/grpc.sock", { address: "/tmp/grpc.sock" }],
    ["unix:relative.sock", { address: "relative.sock" }],
    ["unix-abstract:grpc-test", { address: "grpc-test" }],
  ])("%s", (target, endpoint) => {
    expect(parseTarget(target)).toEqual(endpoint);
  });

  it("an empty target names no endpoint", () => {
    expect(parseTarget(" ")).toBeUndefined();
  });
});

describe("parsePeer / buildPeerAttributes", () => {
  it.each([
    ["127.0.0.1:53412", { address: "127.0.0.1", port: 53412 }],
    ["[::1]:53412", { address: "::1", port: 53412 }],
    ["unix:/tmp/grpc.sock", { address: "/tmp/grpc.sock" }],
  ])("%s", (peer, endpoint) => {
    expect(parsePeer(peer)).toEqual(endpoint);
  });

  it("builds frozen network.peer.* attributes, none for an unknown peer", () => {
    const a = buildPeerAttributes("[::1]:53412");
    expect(a).toEqual({ "network.peer.address": "::1", "network.peer.port": 53412 });
    expect(Object.isFrozen(a)).toBe(true);
    expect(buildPeerAttributes("unix:/tmp/s")).toEqual({ "network.peer.address": "/tmp/s" });
    expect(buildPeerAttributes("unknown")).toEqual({});
  });
});

describe("client span endpoint attributes", () => {
  let sdk: TestSdk;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let method: any;
  beforeAll(async () => {
    sdk = installTestSdk();
    const pb = await import(`${generateFixtures(["demo/v1/echo.proto"])}/demo/v1/echo_pb.ts`);
    method = pb.EchoService.method.echo;
  });
  afterAll(async () => {
    await sdk?.shutdown();
  });

  it.each([
    ["dns:///[2001:db8::1]:8443", { "server.address": "2001:db8::1", "server.port": 8443 }],
    ["unix:///run/api.sock", { "server.address": "/run/api.sock" }],
  ])("%s", (target, expected) => {
    sdk.exporter.reset();
    const hooks = createClientTelemetryHook({ target, semconv: "old" })({ method, metadata: new Metadata(), deadline: Infinity, signals: [] })!;
    hooks.end!({ code: 0, message: "" });
    const [span] = sdk.spans();
    const endpoint = Object.fromEntries(Object.entries(span!.attributes).filter(([k]) => k.startsWith("server.")));
    expect(endpoint).toEqual(expected);
  });
});
