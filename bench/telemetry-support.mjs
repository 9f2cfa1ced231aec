// Shared parts of the telemetry benchmarks: code generation of the demo
// EchoService, the SDK set-up, and statistics over rounds.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const benchRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(benchRoot, "node_modules", ".bin", name);

/** Where `buildSnapshot` puts its private build of the plugin and runtime. */
export const snapshotDir = join(benchRoot, "tmp", "bench-telemetry", "pkg");

/**
 * Compile the current sources (plugin and runtime, ESM) into a private
 * package under tmp/ with its own `protoc-gen-grpckit` executable, so a
 * benchmark never runs a half-written shared dist/ (other builds may run at
 * the same time). tsc emits even when some file has type errors; those are
 * printed. Needs templates/runtime/gen (created by `npm run build`).
 */
export function buildSnapshot() {
  rmSync(snapshotDir, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const outDir = join(snapshotDir, "dist", "esm");
  try {
    execFileSync(process.execPath, [tsc, "-p", "tsconfig.json", "--outDir", outDir, "--declaration", "false"], { cwd: benchRoot, stdio: "inherit" });
  } catch {
    console.error("tsc reported errors (above); benchmarking what it emitted");
  }
  const runtime = "./templates/runtime/dist/esm";
  writeFileSync(
    join(snapshotDir, "package.json"),
    JSON.stringify({
      name: "protoc-gen-grpckit",
      type: "module",
      exports: { "./runtime": `${runtime}/index.js`, "./runtime/telemetry": `${runtime}/telemetry/index.js` },
    }),
  );
  const plugin = join(snapshotDir, "protoc-gen-grpckit");
  writeFileSync(plugin, '#!/usr/bin/env node\nimport { runPlugin } from "./dist/esm/src/run-plugin.js";\nrunPlugin();\n');
  chmodSync(plugin, 0o755);
}

/**
 * Generate demo/v1/echo.proto (protoc-gen-es + the plugin of `buildSnapshot`,
 * target=js) into `dir`, with or without the telemetry wiring, as an ES
 * module package that resolves `protoc-gen-grpckit` to that snapshot.
 */
export function generateEcho(dir, telemetry) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  const opt = "target=js,import_extension=js";
  execFileSync(bin("protoc"), [
    `-I${join(benchRoot, "testdata", "fixtures")}`,
    `-I${join(benchRoot, "node_modules", "protoc", "include")}`,
    `--plugin=protoc-gen-es=${bin("protoc-gen-es")}`, `--es_out=${dir}`, `--es_opt=${opt}`,
    `--plugin=protoc-gen-grpckit=${join(snapshotDir, "protoc-gen-grpckit")}`, `--grpckit_out=${dir}`,
    `--grpckit_opt=${opt},telemetry=${telemetry}`,
    "demo/v1/echo.proto",
  ]);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  if (!existsSync(join(dir, "node_modules", "protoc-gen-grpckit"))) symlinkSync(snapshotDir, join(dir, "node_modules", "protoc-gen-grpckit"), "dir");
}

/**
 * Register the OpenTelemetry SDK globally as a production set-up would:
 * AsyncLocalStorage context manager, W3C trace context + baggage
 * propagators, a tracer provider with a BatchSpanProcessor (default batch
 * size and delay; its exporter counts the spans and drops them, as a remote
 * exporter would hand them over) and a meter provider with an in-memory
 * reader collected every 10 s (a periodic exporting reader's default
 * interval is 60 s; between collections points are aggregated in memory).
 * `api` is `@opentelemetry/api`. `parts` turns pieces off for ablations:
 * `{ tracing: false }` registers no tracer provider, `{ metrics: false }` no
 * meter provider, `{ propagator: false }` no propagator; `{ sampleRatio: r }`
 * samples root spans with probability r (parent-based, TraceIdRatioBased,
 * as production set-ups often do) instead of recording all; `{ batch: false }`
 * replaces the batch processor by one that drops each span as it ends. The SDK packages
 * are loaded here, so scenarios without the SDK never load them. Resolves to
 * `{ uninstall, exported }`: `uninstall()` unregisters everything,
 * `exported()` is the number of spans the exporter received so far.
 */
export async function installSdk(api, parts = {}) {
  const { tracing = true, metrics = true, propagator = true, sampleRatio, batch = true } = parts;
  const { AsyncLocalStorageContextManager } = await import("@opentelemetry/context-async-hooks");
  const { CompositePropagator, ExportResultCode, W3CBaggagePropagator, W3CTraceContextPropagator } = await import("@opentelemetry/core");
  const { MeterProvider, MetricReader } = await import("@opentelemetry/sdk-metrics");
  const { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, BasicTracerProvider: TracerProvider } = await import("@opentelemetry/sdk-trace-base");
  class PullReader extends MetricReader {
    async onForceFlush() {}
    async onShutdown() {}
  }
  let exported = 0;
  const counting = {
    export: (spans, done) => {
      exported += spans.length;
      done({ code: ExportResultCode.SUCCESS });
    },
    shutdown: async () => {},
  };
  const contextManager = new AsyncLocalStorageContextManager().enable();
  api.context.setGlobalContextManager(contextManager);
  if (propagator) {
    api.propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  }
  const sampler = sampleRatio === undefined ? undefined : new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(sampleRatio) });
  // Without batching (ablation): a processor that counts each span as it ends and keeps nothing.
  const processor = batch
    ? new BatchSpanProcessor(counting)
    : { onStart() {}, onEnd: () => void exported++, forceFlush: async () => {}, shutdown: async () => {} };
  if (tracing) api.trace.setGlobalTracerProvider(new TracerProvider({ sampler, spanProcessors: [processor] }));
  let collector;
  if (metrics) {
    const reader = new PullReader();
    api.metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    collector = setInterval(() => void reader.collect(), 10_000);
    collector.unref();
  }
  return {
    uninstall() {
      clearInterval(collector);
      api.trace.disable();
      api.metrics.disable();
      api.propagation.disable();
      api.context.disable();
    },
    exported: () => exported,
  };
}

/** The median of a list of numbers. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** `min-max` of a list of numbers, with `digits` decimals. */
export function spread(xs, digits) {
  return `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;
}
