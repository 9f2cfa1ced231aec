// ESM and CommonJS consumers of generated code, each in its own node
// process resolving the published package layout (dist/esm, dist/cjs via the
// package.json "exports" map; needs `npm run build`), with the real SDK.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fixtures } from "./support/fixture.js";
import { root } from "./support/paths.js";
import { runProtoc } from "./support/protoc.js";

const body = `
const exporter = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
const server = new grpc.Server();
gen.addPartialEchoService(server, { async echo(req) { return { text: req.text }; } });
const port = await new Promise((resolve, reject) =>
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
const client = new gen.EchoServiceClient("127.0.0.1:" + port, grpc.credentials.createInsecure());
const res = await trace.getTracer("consumer").startActiveSpan("root", async (span) => {
  try { return await client.echo({ text: "hi" }); } finally { span.end(); }
});
await new Promise((r) => setTimeout(r, 20));
client.close();
server.forceShutdown();
console.log(JSON.stringify({
  text: res.text,
  spans: exporter.getFinishedSpans().map((s) => ({ name: s.name, kind: s.kind, id: s.spanContext().spanId, parent: s.parentSpanContext?.spanId })),
}));
`;

const esm = `import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider as TracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import * as grpc from "@grpc/grpc-js";
import * as gen from "./demo/v1/echo_grpckit.js";
${body}`;

const cjs = `const { context, propagation, trace } = require("@opentelemetry/api");
const { AsyncLocalStorageContextManager } = require("@opentelemetry/context-async-hooks");
const { W3CTraceContextPropagator } = require("@opentelemetry/core");
const { BasicTracerProvider: TracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require("@opentelemetry/sdk-trace-base");
const grpc = require("@grpc/grpc-js");
const gen = require("./demo/v1/echo_grpckit.js");
(async () => {${body}})().catch((e) => { console.error(e); process.exit(1); });`;

function consume(opt: string, type: "module" | "commonjs", script: string): { text: string; spans: { name: string; kind: number; id: string; parent?: string }[] } {
  const out = runProtoc({ includes: [fixtures], files: ["demo/v1/echo.proto"], grpckitOpt: opt });
  writeFileSync(join(out, "package.json"), JSON.stringify({ type }));
  mkdirSync(join(out, "node_modules"));
  symlinkSync(root, join(out, "node_modules", "protoc-gen-grpckit"), "dir");
  writeFileSync(join(out, "consumer.js"), script);
  const stdout = execFileSync(process.execPath, ["consumer.js"], { cwd: out, timeout: 30_000, encoding: "utf8" });
  return JSON.parse(stdout.trim().split("\n").pop()!);
}

function expectTraced(result: ReturnType<typeof consume>) {
  expect(result.text).toBe("hi");
  const root = result.spans.find((s) => s.name === "root")!;
  const client = result.spans.find((s) => s.kind === 2)!; // SpanKind.CLIENT
  const server = result.spans.find((s) => s.kind === 1)!; // SpanKind.SERVER
  expect(client).toMatchObject({ name: "demo.v1.EchoService/Echo", parent: root.id });
  expect(server).toMatchObject({ name: "demo.v1.EchoService/Echo", parent: client.id });
}

describe("consumers of generated code", () => {
  it("ESM (target=js, import_extension=js)", () => {
    expectTraced(consume("target=js,import_extension=js", "module", esm));
  });

  it("CommonJS (target=js, js_import_style=legacy_commonjs)", () => {
    expectTraced(consume("target=js,js_import_style=legacy_commonjs", "commonjs", cjs));
  });

  it("telemetry=false generates code that never loads the telemetry runtime", () => {
    const out = runProtoc({ includes: [fixtures], files: ["demo/v1/echo.proto"], grpckitOpt: "target=ts,telemetry=false", esOpt: "target=ts" });
    const src = execFileSync("cat", [join(out, "demo/v1/echo_grpckit.ts")], { encoding: "utf8" });
    expect(src).not.toContain("runtime/telemetry");
    expect(src).not.toContain("Traced");
    expect(src).toContain("createClientTransport(target, credentialsOrOptions, options, EchoServiceRuntimeConfig)");
    expect(src).not.toContain("telemetry:");
  });
});
