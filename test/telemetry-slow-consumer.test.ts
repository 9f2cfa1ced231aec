// Client telemetry of streaming responses read by a slow consumer: every message the client
// received before the status is an `rpc.message` RECEIVED event of the client span and counts in
// `rpc.client.responses_per_rpc` (docs/telemetry.md "Streaming"; the client's response hooks run as
// messages arrive, not as the caller takes them). Real grpc-js server and client on 127.0.0.1, the
// real OpenTelemetry SDK (test/support/telemetry-sdk.ts).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { setTimeout as delay } from "node:timers/promises";
import { SpanKind } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { generateFixtures } from "./support/fixture.js";
import { insecure, startServer } from "./support/grpc.js";
import { installTestSdk, waitForSpans, type TestSdk } from "./support/telemetry-sdk.js";

/* eslint-disable @typescript-eslint/no-explicit-any */
let gen: any;
let sdk: TestSdk;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  delete process.env["OTEL_SEMCONV_STABILITY_OPT_IN"];
  sdk = installTestSdk();
  const out = generateFixtures(["demo/v1/echo.proto"]);
  gen = await import(`${out}/demo/v1/echo_grpckit.ts`);
});
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  await sdk?.shutdown();
});
beforeEach(() => sdk.exporter.reset());

async function serve(impl: object): Promise<any> {
  const s = await startServer((server) => gen.addPartialEchoService(server, impl, { onInternalError: () => {} }));
  const client = new gen.EchoServiceClient(s.address, insecure());
  stops.push(s.stop, async () => client.close());
  return client;
}

const byKind = (spans: ReadableSpan[], kind: SpanKind) => spans.filter((s) => s.kind === kind);
const received = (s: ReadableSpan) => s.events.filter((e) => e.name === "rpc.message" && e.attributes?.["rpc.message.type"] === "RECEIVED");

describe("client streaming responses", () => {
  it("a server stream read by a slow consumer: 5 RECEIVED events and responses_per_rpc = 5", async () => {
    const client = await serve({
      async *expand(req: any) {
        for (let i = 0; i < req.count; i++) yield { text: "m", index: i };
      },
    });
    let n = 0;
    for await (const _ of client.expand({ text: "x", count: 5 })) {
      n++;
      await delay(30);
    }
    expect(n).toBe(5);
    const spans = await waitForSpans(sdk, 2);
    const [clientSpan] = byKind(spans, SpanKind.CLIENT);
    const [serverSpan] = byKind(spans, SpanKind.SERVER);
    expect(serverSpan!.events.filter((e) => e.attributes?.["rpc.message.type"] === "SENT")).toHaveLength(5);
    const h = await sdk.histograms();
    const serverSum = h.get("rpc.server.responses_per_rpc")!.points.reduce((a, p) => a + (p.value.sum ?? 0), 0);
    expect(serverSum).toBe(5);
    const clientSum = h.get("rpc.client.responses_per_rpc")!.points.reduce((a, p) => a + (p.value.sum ?? 0), 0);
    expect({ events: received(clientSpan!).length, responsesPerRpc: clientSum }).toEqual({ events: 5, responsesPerRpc: 5 });
  }, 15_000);
});
