// Span status on success, each class of error, cancel, deadline and early
// break; validation rejection on the server span; retry attempts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { setTimeout as delay } from "node:timers/promises";
import { Metadata } from "@grpc/grpc-js";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { GrpcError, Status, type ServerHook } from "@grpckit/runtime";
import { createClientTelemetryHook } from "@grpckit/runtime/telemetry";
import { generateFixtures } from "./support/fixture.js";
import { insecure, startServer } from "./support/grpc.js";
import { installTestSdk, waitForSpans, type TestSdk } from "./support/telemetry-sdk.js";

/* eslint-disable @typescript-eslint/no-explicit-any */
let gen: any;
let pb: any;
let sdk: TestSdk;
let client: any;
let stop: () => Promise<void>;

/** Stands in for the validation hook: rejects `text: "invalid"` with INVALID_ARGUMENT from a request hook. */
const rejectInvalid: ServerHook = () => ({
  request(message) {
    if ((message as { text?: string }).text === "invalid") throw new GrpcError(Status.INVALID_ARGUMENT, "text: must not be invalid");
  },
});

beforeAll(async () => {
  delete process.env["OTEL_SEMCONV_STABILITY_OPT_IN"];
  sdk = installTestSdk();
  const out = generateFixtures(["demo/v1/echo.proto"]);
  gen = await import(`${out}/demo/v1/echo_grpckit.ts`);
  pb = await import(`${out}/demo/v1/echo_pb.ts`);
  const s = await startServer((server) =>
    gen.addPartialEchoService(
      server,
      {
        async echo(req: any, ctx: any) {
          if (req.delayMs > 0) await delay(req.delayMs, undefined, { signal: ctx.signal }).catch(() => {});
          if (req.text === "throw") throw new Error("handler bug");
          if (req.failCode !== 0) throw new GrpcError(req.failCode, "asked to fail");
          return { text: req.text };
        },
        async *expand(req: any) {
          for (let i = 0; i < req.count; i++) {
            await delay(5);
            yield { text: req.text, index: i };
          }
        },
      },
      { hooks: [rejectInvalid], onInternalError: () => {} },
    ),
  );
  stop = s.stop;
  client = new gen.EchoServiceClient(s.address, insecure());
});
afterAll(async () => {
  client?.close();
  await stop?.();
  await sdk?.shutdown();
});
beforeEach(() => sdk.exporter.reset());

const byKind = (spans: ReadableSpan[], kind: SpanKind) => spans.filter((s) => s.kind === kind);

async function callAndCollect(call: () => Promise<unknown>, expectedSpans: number) {
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  const spans = await waitForSpans(sdk, expectedSpans);
  return { error, client: byKind(spans, SpanKind.CLIENT)[0]!, server: byKind(spans, SpanKind.SERVER)[0] };
}

describe("span status", () => {
  it("success leaves both statuses unset and records OK", async () => {
    const r = await callAndCollect(() => client.echo({ text: "ok" }), 2);
    expect(r.error).toBeUndefined();
    for (const s of [r.client, r.server!]) {
      expect(s.status.code).toBe(SpanStatusCode.UNSET);
      expect(s.attributes["rpc.grpc.status_code"]).toBe(Status.OK);
      expect(s.events.map((e) => e.name)).not.toContain("grpckit.status");
    }
  });

  // The client marks every non-OK code; the server only the six server-error codes of the gRPC conventions.
  it.each([
    ["NOT_FOUND", Status.NOT_FOUND, false],
    ["INVALID_ARGUMENT", Status.INVALID_ARGUMENT, false],
    ["PERMISSION_DENIED", Status.PERMISSION_DENIED, false],
    ["UNKNOWN", Status.UNKNOWN, true],
    ["UNAVAILABLE", Status.UNAVAILABLE, true],
    ["DATA_LOSS", Status.DATA_LOSS, true],
  ])("%s from the handler", async (name, code, serverError) => {
    const r = await callAndCollect(() => client.echo({ text: "x", failCode: code }), 2);
    expect(r.error).toMatchObject({ code });
    expect(r.client.status).toEqual({ code: SpanStatusCode.ERROR, message: "asked to fail" });
    expect(r.server!.status.code).toBe(serverError ? SpanStatusCode.ERROR : SpanStatusCode.UNSET);
    for (const s of [r.client, r.server!]) {
      expect(s.attributes["rpc.grpc.status_code"]).toBe(code);
      const ev = s.events.find((e) => e.name === "grpckit.status");
      expect(ev?.attributes).toEqual({ "grpckit.status.code": name, "grpckit.status.message": "asked to fail" });
    }
  });

  it("a handler bug: INTERNAL on both, the exception on the server span only", async () => {
    const r = await callAndCollect(() => client.echo({ text: "throw" }), 2);
    expect(r.error).toMatchObject({ code: Status.INTERNAL });
    expect(r.client.status.code).toBe(SpanStatusCode.ERROR);
    expect(r.server!.status).toEqual({ code: SpanStatusCode.ERROR, message: "internal error" });
    const ex = r.server!.events.find((e) => e.name === "exception");
    expect(ex?.attributes?.["exception.message"]).toBe("handler bug");
    expect(r.client.events.find((e) => e.name === "exception")).toBeUndefined();
  });

  it("cancel: CANCELLED on both spans; an error for the client only", async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    const r = await callAndCollect(() => client.echo({ text: "x", delayMs: 5000 }, { signal: abort.signal }), 2);
    expect(r.error).toMatchObject({ code: Status.CANCELLED });
    expect(r.client.status.code).toBe(SpanStatusCode.ERROR);
    expect(r.client.attributes["rpc.grpc.status_code"]).toBe(Status.CANCELLED);
    expect(r.server!.attributes["rpc.grpc.status_code"]).toBe(Status.CANCELLED);
    expect(r.server!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("deadline: DEADLINE_EXCEEDED is an error on both sides", async () => {
    const r = await callAndCollect(() => client.echo({ text: "x", delayMs: 5000 }, { timeoutMs: 50 }), 2);
    expect(r.error).toMatchObject({ code: Status.DEADLINE_EXCEEDED });
    for (const s of [r.client, r.server!]) {
      expect(s.attributes["rpc.grpc.status_code"]).toBe(Status.DEADLINE_EXCEEDED);
      expect(s.status.code).toBe(SpanStatusCode.ERROR);
    }
  });

  // Breaking out of `for await` cancels the call (the response iterator's `return()`): CANCELLED on both sides.
  it("leaving a response stream early ends both spans as CANCELLED", async () => {
    for await (const _ of client.expand({ text: "x", count: 100 })) break;
    const spans = await waitForSpans(sdk, 2);
    const c = byKind(spans, SpanKind.CLIENT)[0]!;
    const s = byKind(spans, SpanKind.SERVER)[0]!;
    expect(c.attributes["rpc.grpc.status_code"]).toBe(Status.CANCELLED);
    expect(s.attributes["rpc.grpc.status_code"]).toBe(Status.CANCELLED);
    expect(c.events.filter((e) => e.name === "rpc.message" && e.attributes?.["rpc.message.type"] === "RECEIVED")).toHaveLength(1);
  });

  it("UNIMPLEMENTED: an error on the client span; unimplemented methods get no server span", async () => {
    const r = await callAndCollect(() => client.missing({}), 1);
    expect(r.error).toMatchObject({ code: Status.UNIMPLEMENTED });
    expect(r.client.status.code).toBe(SpanStatusCode.ERROR);
    expect(r.server).toBeUndefined();
  });
});

describe("validation rejection", () => {
  it("is visible on the server span: status code, grpckit.status event with the violation", async () => {
    const r = await callAndCollect(() => client.echo({ text: "invalid" }), 2);
    expect(r.error).toMatchObject({ code: Status.INVALID_ARGUMENT });
    const server = r.server!;
    expect(server.attributes["rpc.grpc.status_code"]).toBe(Status.INVALID_ARGUMENT);
    expect(server.status.code).toBe(SpanStatusCode.UNSET);
    expect(server.events.find((e) => e.name === "grpckit.status")?.attributes).toEqual({
      "grpckit.status.code": "INVALID_ARGUMENT",
      "grpckit.status.message": "text: must not be invalid",
    });
    // A unary call: no rpc.message events (docs/rpc/rpc-events.md: "SHOULD NOT be recorded" for unary calls).
    expect(server.events.filter((e) => e.name === "rpc.message")).toEqual([]);
  });
});

describe("retry attempts (driving the attempt hook)", () => {
  it("adds one event per retry with the backoff waited and the previous status", () => {
    const method = pb.EchoService.method.echo;
    const metadata = new Metadata();
    const hooks = createClientTelemetryHook({ target: "dns:///api.example.com:8443" })({ method, metadata, deadline: Infinity, signals: [] })!;
    expect(String(metadata.get("traceparent")[0])).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    hooks.attempt!({ attempt: 1, backoffMs: 0 });
    hooks.attempt!({ attempt: 2, backoffMs: 25, previous: { code: Status.UNAVAILABLE, message: "down" } });
    hooks.attempt!({ attempt: 3, backoffMs: 60, previous: { code: Status.UNAVAILABLE, message: "down" } });
    hooks.end!({ code: Status.OK, message: "" });
    const [span] = sdk.spans();
    expect(span!.attributes).toMatchObject({ "server.address": "api.example.com", "server.port": 8443, "grpckit.attempt.count": 3 });
    expect(span!.events.filter((e) => e.name === "grpckit.attempt").map((e) => e.attributes)).toEqual([
      { "grpckit.attempt": 2, "grpckit.attempt.backoff_ms": 25, "grpckit.attempt.previous_status_code": "UNAVAILABLE" },
      { "grpckit.attempt": 3, "grpckit.attempt.backoff_ms": 60, "grpckit.attempt.previous_status_code": "UNAVAILABLE" },
    ]);
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
  });
});
