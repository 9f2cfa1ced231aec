// Span tree, context and baggage propagation, and message events over real
// calls on 127.0.0.1, with the real OpenTelemetry SDK registered globally.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { setTimeout as delay } from "node:timers/promises";
import { create, toBinary } from "@bufbuild/protobuf";
import { SpanKind, context, propagation, trace } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { generateFixtures } from "./support/fixture.js";
import { insecure, startServer } from "./support/grpc.js";
import { installTestSdk, waitForSpans, type TestSdk } from "./support/telemetry-sdk.js";

/* eslint-disable @typescript-eslint/no-explicit-any */
let gen: any;
let pb: any;
let sdk: TestSdk;
const stops: (() => Promise<void>)[] = [];
let front: any;

beforeAll(async () => {
  sdk = installTestSdk();
  const out = generateFixtures(["demo/v1/echo.proto"]);
  gen = await import(`${out}/demo/v1/echo_grpckit.ts`);
  pb = await import(`${out}/demo/v1/echo_pb.ts`);
  const downstream = await startServer((s) =>
    gen.addPartialEchoService(s, {
      async echo(req: any) {
        return { text: `down:${req.text}` };
      },
      async *expand(req: any) {
        for (let i = 0; i < req.count; i++) yield { text: req.text, index: i };
      },
      async collect(reqs: any) {
        let n = 0;
        for await (const _ of reqs) n++;
        return { count: n };
      },
    }),
  );
  stops.push(downstream.stop);
  const down = new gen.EchoServiceClient(downstream.address, insecure());
  const baggage = () => propagation.getActiveBaggage()?.getEntry("tenant")?.value ?? "-";
  const upstream = await startServer((s) =>
    gen.addPartialEchoService(s, {
      async echo(req: any) {
        await delay(1);
        const r = await down.echo({ text: req.text });
        return { text: `${r.text}|${baggage()}` };
      },
      async *expand(req: any) {
        for (let i = 0; i < req.count; i++) {
          await delay(1);
          const r = await down.echo({ text: `${i}` });
          yield { text: `${r.text}|${baggage()}`, index: i };
        }
      },
      async collect(reqs: any) {
        const texts: string[] = [];
        for await (const r of reqs) texts.push(r.text);
        await delay(1);
        const r = await down.collect(texts.map((text) => ({ text })));
        return { count: r.count, joined: baggage() };
      },
      async *chat(reqs: any) {
        for await (const r of reqs) {
          for await (const x of down.expand({ text: r.text, count: 1 })) yield { text: `${x.text}|${baggage()}` };
        }
      },
    }),
  );
  stops.push(upstream.stop);
  front = new gen.EchoServiceClient(upstream.address, insecure());
});
afterAll(async () => {
  for (const stop of stops) await stop();
  await sdk?.shutdown();
});
beforeEach(() => sdk.exporter.reset());

/** Run `fn` inside an active root span carrying baggage `tenant=t1`. */
async function inRoot<T>(fn: () => Promise<T>): Promise<{ result: T; root: ReadableSpan["spanContext"] extends () => infer C ? C : never }> {
  const tracer = trace.getTracer("test");
  const bag = propagation.createBaggage({ tenant: { value: "t1" } });
  return context.with(propagation.setBaggage(context.active(), bag), () =>
    tracer.startActiveSpan("root", async (root) => {
      try {
        return { result: await fn(), root: root.spanContext() };
      } finally {
        root.end();
      }
    }),
  );
}

const childrenOf = (spans: ReadableSpan[], parent: ReadableSpan | { spanId: string }, kind: SpanKind) => {
  const id = "spanContext" in parent ? parent.spanContext().spanId : parent.spanId;
  return spans.filter((s) => s.parentSpanContext?.spanId === id && s.kind === kind);
};

/** client -> server -> downstream client(s) -> downstream server(s), all in the root's trace. */
function expectTree(spans: ReadableSpan[], rootId: { spanId: string; traceId: string }, name: string, downName: string, downCalls: number) {
  for (const s of spans) expect(s.spanContext().traceId).toBe(rootId.traceId);
  const [client, ...moreClients] = childrenOf(spans, rootId, SpanKind.CLIENT);
  expect(moreClients).toEqual([]);
  expect(client!.name).toBe(name);
  const [server] = childrenOf(spans, client!, SpanKind.SERVER);
  expect(server?.name).toBe(name);
  expect(server!.parentSpanContext?.isRemote).toBe(true);
  const downClients = childrenOf(spans, server!, SpanKind.CLIENT);
  expect(downClients.map((s) => s.name)).toEqual(Array(downCalls).fill(downName));
  for (const dc of downClients) {
    expect(childrenOf(spans, dc, SpanKind.SERVER).map((s) => s.name)).toEqual([downName]);
  }
}

describe("span tree across client -> server -> downstream client -> downstream server", () => {
  it("unary", async () => {
    const { result, root } = await inRoot(() => front.echo({ text: "a" }));
    expect(result.text).toBe("down:a|t1");
    const spans = await waitForSpans(sdk, 5);
    expectTree(spans, root, "demo.v1.EchoService/Echo", "demo.v1.EchoService/Echo", 1);
  });

  it("server streaming, with the handler's context kept across async-iterator steps", async () => {
    const { result, root } = await inRoot(async () => {
      const got: string[] = [];
      for await (const r of front.expand({ text: "x", count: 2 })) got.push(r.text);
      return got;
    });
    expect(result).toEqual(["down:0|t1", "down:1|t1"]);
    const spans = await waitForSpans(sdk, 7);
    expectTree(spans, root, "demo.v1.EchoService/Expand", "demo.v1.EchoService/Echo", 2);
  });

  it("client streaming", async () => {
    const { result, root } = await inRoot(() => front.collect([{ text: "a" }, { text: "b" }]));
    expect(result).toMatchObject({ count: 2, joined: "t1" });
    const spans = await waitForSpans(sdk, 5);
    expectTree(spans, root, "demo.v1.EchoService/Collect", "demo.v1.EchoService/Collect", 1);
  });

  it("bidi streaming", async () => {
    const { result, root } = await inRoot(async () => {
      const got: string[] = [];
      for await (const r of front.chat([{ text: "p" }, { text: "q" }])) got.push(r.text);
      return got;
    });
    expect(result).toEqual(["p|t1", "q|t1"]);
    const spans = await waitForSpans(sdk, 7);
    expectTree(spans, root, "demo.v1.EchoService/Chat", "demo.v1.EchoService/Expand", 2);
  });
});

describe("message events", () => {
  const messages = (s: ReadableSpan) =>
    s.events.filter((e) => e.name === "rpc.message").map((e) => [e.attributes!["rpc.message.type"], e.attributes!["rpc.message.id"], e.attributes!["rpc.message.uncompressed_size"]]);

  it("records each message sent and received, with sequence ids and sizes", async () => {
    const got: any[] = [];
    for await (const r of front.chat([{ text: "p" }, { text: "qq" }])) got.push(r);
    const spans = await waitForSpans(sdk, 6);
    const frontClient = spans.find((s) => s.kind === SpanKind.CLIENT && s.name.endsWith("/Chat"))!;
    const { input, output } = pb.EchoService.method.chat;
    const sent = messages(frontClient).filter((m) => m[0] === "SENT");
    const received = messages(frontClient).filter((m) => m[0] === "RECEIVED");
    expect(sent.map((m) => m[1])).toEqual([1, 2]);
    expect(received.map((m) => m[1])).toEqual([1, 2]);
    expect(sent.map((m) => m[2])).toEqual(["p", "qq"].map((text) => toBinary(input, create(input, { text })).byteLength));
    expect(received.map((m) => m[2])).toEqual(got.map((r) => toBinary(output, r).byteLength));
    const frontServer = childrenOf(spans, frontClient, SpanKind.SERVER)[0]!;
    expect(messages(frontServer).map((m) => `${m[0]}${m[1]}`)).toEqual(expect.arrayContaining(["RECEIVED1", "RECEIVED2", "SENT1", "SENT2"]));
  });
});
