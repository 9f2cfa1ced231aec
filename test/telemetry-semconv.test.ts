// Attribute names and values in each semconv mode, and metric points with
// units, checked against the names published in @opentelemetry/semantic-conventions.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ATTR_ERROR_TYPE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_RPC_METHOD,
  ATTR_RPC_STATUS_CODE,
  ATTR_RPC_SYSTEM_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  METRIC_RPC_CLIENT_CALL_DURATION,
  METRIC_RPC_SERVER_CALL_DURATION,
} from "@opentelemetry/semantic-conventions";
import {
  ATTR_RPC_GRPC_STATUS_CODE,
  ATTR_RPC_SERVICE,
  ATTR_RPC_SYSTEM,
  METRIC_RPC_CLIENT_DURATION,
  METRIC_RPC_CLIENT_REQUEST_SIZE,
  METRIC_RPC_CLIENT_REQUESTS_PER_RPC,
  METRIC_RPC_SERVER_DURATION,
  METRIC_RPC_SERVER_RESPONSE_SIZE,
  METRIC_RPC_SERVER_RESPONSES_PER_RPC,
} from "@opentelemetry/semantic-conventions/incubating";
import { SpanKind } from "@opentelemetry/api";
import { GrpcError, Status, type HandlerContext } from "@grpckit/runtime";
import { parseSemconvMode } from "@grpckit/runtime/telemetry";
import { generateFixtures } from "./support/fixture.js";
import { insecure, startServer } from "./support/grpc.js";
import { installTestSdk, waitForSpans, type HistogramMetric, type TestSdk } from "./support/telemetry-sdk.js";

/* eslint-disable @typescript-eslint/no-explicit-any */
let gen: any;
let sdk: TestSdk;
const env = "OTEL_SEMCONV_STABILITY_OPT_IN";

beforeAll(async () => {
  sdk = installTestSdk();
  gen = await import(`${generateFixtures(["demo/v1/echo.proto"])}/demo/v1/echo_grpckit.ts`);
});
afterAll(async () => {
  delete process.env[env];
  await sdk?.shutdown();
});

/** Start a server and a client with the env var set (hooks read it when created), make one failing call. */
async function run(optIn: string | undefined, telemetry: object = {}) {
  if (optIn === undefined) delete process.env[env];
  else process.env[env] = optIn;
  sdk.exporter.reset();
  const s = await startServer((server) =>
    gen.addPartialEchoService(
      server,
      {
        async echo(_req: unknown, ctx: HandlerContext) {
          ctx.responseHeader.set("x-shard", "s1");
          ctx.responseHeader.set("x-secret", "h");
          ctx.responseTrailer.set("x-cost", "7");
          ctx.responseTrailer.set("x-secret-trailer", "t");
          throw new GrpcError(Status.NOT_FOUND, "nope");
        },
      },
      { telemetry },
    ),
  );
  const client = new gen.EchoServiceClient(s.address, insecure(), { telemetry });
  await client.echo({ text: "x" }, { metadata: { "x-tenant": "t1", authorization: "Bearer secret" } }).catch(() => {});
  const spans = await waitForSpans(sdk, 2);
  client.close();
  await s.stop();
  const port = Number(s.address.split(":")[1]);
  return { client: spans.find((x) => x.kind === SpanKind.CLIENT)!, server: spans.find((x) => x.kind === SpanKind.SERVER)!, port };
}

describe("OTEL_SEMCONV_STABILITY_OPT_IN", () => {
  it("parses rpc, rpc/dup (which wins) and anything else", () => {
    expect(parseSemconvMode(undefined)).toBe("old");
    expect(parseSemconvMode("http")).toBe("old");
    expect(parseSemconvMode("http, rpc")).toBe("stable");
    expect(parseSemconvMode("rpc,rpc/dup")).toBe("dup");
  });

  it("default: the v1.37.0 attributes", async () => {
    const { client, server, port } = await run(undefined);
    expect(client.attributes).toEqual({
      [ATTR_RPC_SYSTEM]: "grpc",
      [ATTR_RPC_SERVICE]: "demo.v1.EchoService",
      [ATTR_RPC_METHOD]: "Echo",
      [ATTR_SERVER_ADDRESS]: "127.0.0.1",
      [ATTR_SERVER_PORT]: port,
      [ATTR_RPC_GRPC_STATUS_CODE]: Status.NOT_FOUND,
    });
    expect(server.attributes).toMatchObject({ [ATTR_RPC_SYSTEM]: "grpc", [ATTR_RPC_METHOD]: "Echo", [ATTR_RPC_GRPC_STATUS_CODE]: 5 });
    expect(server.attributes[ATTR_NETWORK_PEER_ADDRESS]).toBe("127.0.0.1");
    expect(server.attributes[ATTR_NETWORK_PEER_PORT]).toEqual(expect.any(Number));
    expect(Object.keys(server.attributes).some((k) => k.startsWith(ATTR_RPC_SYSTEM_NAME))).toBe(false);
  });

  it("rpc: the stable attributes only, error.type on the client (every non-OK) but not on the server (NOT_FOUND)", async () => {
    const { client, server, port } = await run("rpc");
    expect(client.attributes).toEqual({
      [ATTR_RPC_SYSTEM_NAME]: "grpc",
      [ATTR_RPC_METHOD]: "demo.v1.EchoService/Echo",
      [ATTR_SERVER_ADDRESS]: "127.0.0.1",
      [ATTR_SERVER_PORT]: port,
      [ATTR_RPC_STATUS_CODE]: "NOT_FOUND",
      [ATTR_ERROR_TYPE]: "NOT_FOUND",
    });
    expect(server.attributes).toMatchObject({ [ATTR_RPC_SYSTEM_NAME]: "grpc", [ATTR_RPC_STATUS_CODE]: "NOT_FOUND" });
    expect(server.attributes[ATTR_ERROR_TYPE]).toBeUndefined();
    expect(server.attributes[ATTR_RPC_SYSTEM]).toBeUndefined();
    expect(client.events.filter((e) => e.name === "rpc.message")).toEqual([]);
  });

  it("rpc/dup: both sets; rpc.method carries the stable (fully-qualified) value; no message events on a unary call", async () => {
    const { client } = await run("rpc/dup");
    expect(client.attributes).toMatchObject({
      [ATTR_RPC_SYSTEM]: "grpc",
      [ATTR_RPC_SYSTEM_NAME]: "grpc",
      [ATTR_RPC_SERVICE]: "demo.v1.EchoService",
      [ATTR_RPC_METHOD]: "demo.v1.EchoService/Echo",
      [ATTR_RPC_GRPC_STATUS_CODE]: 5,
      [ATTR_RPC_STATUS_CODE]: "NOT_FOUND",
      [ATTR_ERROR_TYPE]: "NOT_FOUND",
    });
    // docs/rpc/rpc-events.md: "In case of unary calls message events SHOULD NOT be recorded".
    expect(client.events.filter((e) => e.name === "rpc.message")).toEqual([]);
  });

  it("records request metadata only when opted in, header by header", async () => {
    const none = await run(undefined);
    expect(Object.keys(none.client.attributes).filter((k) => k.includes("metadata"))).toEqual([]);
    const some = await run("rpc/dup", { requestMetadata: ["x-tenant"] });
    for (const s of [some.client, some.server]) {
      expect(s.attributes["rpc.grpc.request.metadata.x-tenant"]).toEqual(["t1"]);
      expect(s.attributes["rpc.request.header.x-tenant"]).toEqual(["t1"]);
      expect(Object.keys(s.attributes).filter((k) => k.includes("authorization"))).toEqual([]);
    }
  });

  it("records response headers and trailers on the server span only when opted in, key by key", async () => {
    const none = await run("rpc/dup");
    expect(Object.keys(none.server.attributes).filter((k) => k.startsWith("rpc.response.") || k.startsWith("rpc.grpc.response."))).toEqual([]);
    const some = await run("rpc/dup", { responseMetadata: ["x-shard"], responseTrailers: ["x-cost"] });
    const recorded = Object.fromEntries(
      Object.entries(some.server.attributes).filter(([k]) => k.startsWith("rpc.response.") || k.startsWith("rpc.grpc.response.")),
    );
    expect(recorded).toEqual({
      "rpc.response.header.x-shard": ["s1"],
      "rpc.response.trailer.x-cost": ["7"],
      // The old conventions have one attribute for all response metadata.
      "rpc.grpc.response.metadata.x-shard": ["s1"],
      "rpc.grpc.response.metadata.x-cost": ["7"],
    });
  });
});

/** One unary call (OK) and one server-streaming call (3 responses) in `optIn` mode, with `telemetry` options on both sides. */
async function runMetrics(telemetry: object, optIn = "rpc/dup") {
  process.env[env] = optIn;
  sdk.exporter.reset();
  const s = await startServer((server) =>
    gen.addPartialEchoService(
      server,
      {
        async echo(req: { text: string }) {
          return { text: req.text };
        },
        async *expand(req: { text: string; count: number }) {
          for (let i = 0; i < req.count; i++) yield { text: req.text, index: i };
        },
      },
      { telemetry },
    ),
  );
  const client = new gen.EchoServiceClient(s.address, insecure(), { telemetry });
  await client.echo({ text: "hello" });
  for await (const _ of client.expand({ text: "abc", count: 3 }));
  const spans = await waitForSpans(sdk, 4);
  client.close();
  await s.stop();
  return spans;
}

const pointsOf = (h: Map<string, HistogramMetric>, name: string, method: string) =>
  h.get(name)?.points.filter((p) => p.attributes[ATTR_RPC_METHOD] === `demo.v1.EchoService/${method}`) ?? [];

describe("message events in the stable conventions", () => {
  const received = (spans: Awaited<ReturnType<typeof runMetrics>>) =>
    spans
      .find((x) => x.kind === SpanKind.CLIENT && x.name.endsWith("/Expand"))!
      .events.filter((e) => e.name === "rpc.message" && e.attributes?.["rpc.message.type"] === "RECEIVED");

  it("are off by default with rpc, on with messageEvents: true (streaming calls only)", async () => {
    expect(received(await runMetrics({}, "rpc"))).toEqual([]);
    const spans = await runMetrics({ messageEvents: true }, "rpc");
    expect(received(spans).map((e) => e.attributes?.["rpc.message.id"])).toEqual([1, 2, 3]);
    const echo = spans.find((x) => x.kind === SpanKind.CLIENT && x.name.endsWith("/Echo"))!;
    expect(echo.events.filter((e) => e.name === "rpc.message")).toEqual([]);
  });
});

describe("metrics", () => {
  it("records the histograms of each convention set with their units; messages per RPC on streaming calls only", async () => {
    await run("rpc/dup");
    await runMetrics({});
    const h = await sdk.histograms();
    const units = Object.fromEntries([...h.values()].map((m) => [m.name, m.unit]));
    expect(units).toMatchObject({
      [METRIC_RPC_CLIENT_DURATION]: "ms",
      [METRIC_RPC_SERVER_DURATION]: "ms",
      [METRIC_RPC_CLIENT_CALL_DURATION]: "s",
      [METRIC_RPC_SERVER_CALL_DURATION]: "s",
      [METRIC_RPC_CLIENT_REQUESTS_PER_RPC]: "{count}",
      [METRIC_RPC_SERVER_RESPONSES_PER_RPC]: "{count}",
    });
    const call = h.get(METRIC_RPC_CLIENT_CALL_DURATION)!.points.find((p) => p.attributes[ATTR_RPC_STATUS_CODE] === "NOT_FOUND")!;
    expect(call.attributes).toMatchObject({ [ATTR_RPC_METHOD]: "demo.v1.EchoService/Echo", [ATTR_ERROR_TYPE]: "NOT_FOUND", [ATTR_SERVER_ADDRESS]: "127.0.0.1" });
    expect(call.value.count).toBe(1);
    expect(call.value.sum).toBeLessThan(5); // seconds, not milliseconds
    const ms = h.get(METRIC_RPC_CLIENT_DURATION)!.points.find((p) => p.attributes[ATTR_RPC_GRPC_STATUS_CODE] === 5)!;
    expect(ms.value.count).toBe(1);
    expect(ms.value.sum).toBeGreaterThanOrEqual(call.value.sum); // the same duration in ms
    // Messages per RPC: "Should be 1 for all non-streaming RPCs", required for streaming ones: recorded for streaming calls only.
    expect(pointsOf(h, METRIC_RPC_CLIENT_REQUESTS_PER_RPC, "Echo")).toEqual([]);
    expect(pointsOf(h, METRIC_RPC_CLIENT_REQUESTS_PER_RPC, "Expand").map((p) => [p.value.count, p.value.sum])).toEqual([[1, 1]]);
    expect(pointsOf(h, METRIC_RPC_SERVER_RESPONSES_PER_RPC, "Expand").map((p) => [p.value.count, p.value.sum])).toEqual([[1, 3]]);
    // Message sizes are opt-in (sizeMetrics).
    expect(h.get(METRIC_RPC_CLIENT_REQUEST_SIZE)).toBeUndefined();
    expect(h.get(METRIC_RPC_SERVER_RESPONSE_SIZE)).toBeUndefined();
  });

  it("records message sizes with sizeMetrics: one point per message, in bytes", async () => {
    await runMetrics({ sizeMetrics: true });
    const h = await sdk.histograms();
    expect(h.get(METRIC_RPC_CLIENT_REQUEST_SIZE)?.unit).toBe("By");
    const [echoRequest] = pointsOf(h, METRIC_RPC_CLIENT_REQUEST_SIZE, "Echo");
    expect([echoRequest?.value.count, echoRequest?.value.sum]).toEqual([1, 7]); // field 1, length 5, "hello"
    const [expandResponses] = pointsOf(h, METRIC_RPC_SERVER_RESPONSE_SIZE, "Expand");
    expect(expandResponses?.value.count).toBe(3);
  });
});
