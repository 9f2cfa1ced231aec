// Micro-benchmark of the telemetry hooks alone (no network): the per-call
// cost of one client hook + one server hook driving a unary call
// (start, request, response, end), in microseconds per call.
//   nosdk    - no SDK registered (the hooks step aside)
//   sdk      - the SDK recording spans (batch processor, dropping exporter),
//              metrics (pull reader), W3C propagators, AsyncLocalStorage
//   floor    - with the same SDK: only what any instrumentation must do per
//              call (start/end a client and a server span with the same
//              attributes, inject/extract the context, one context.with, one
//              duration point per side); the "sdk" result minus this is what
//              the hooks add on top
// Scenarios are interleaved in rounds (A B C A B C ...) in one process after a
// warm-up; the median of the rounds and the spread (min-max) are printed.
//
// Usage: node bench/telemetry-hooks.mjs [--rounds N] [--calls N]
import { create } from "@bufbuild/protobuf";
import { Metadata } from "@grpc/grpc-js";
import { context, metrics, propagation, trace, SpanKind } from "@opentelemetry/api";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { benchRoot, buildSnapshot, generateEcho, installSdk, median, snapshotDir, spread } from "./telemetry-support.mjs";

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? def : Number(process.argv[i + 1]);
};
const rounds = arg("rounds", 7);
const calls = arg("calls", 20000);

const dir = join(benchRoot, "tmp", "bench-telemetry", "hooks");
buildSnapshot();
generateEcho(dir, true);
const { EchoService } = await import(join(dir, "demo", "v1", "echo_pb.js"));
const { createClientTelemetryHook, createServerTelemetryHook } = await import(join(snapshotDir, "dist", "esm", "templates", "runtime", "telemetry", "index.js"));
const method = EchoService.method.echo;
const request = create(method.input, { text: "hello" });
const response = create(method.output, { text: "hello" });
const ok = { code: 0, message: "" };

const clientHook = createClientTelemetryHook({ target: "127.0.0.1:50051" });
const serverHook = createServerTelemetryHook();

function hooksCall() {
  const metadata = new Metadata();
  const c = clientHook({ method, metadata, deadline: Infinity, signals: [] });
  c?.request?.(request);
  const handler = { requestMetadata: metadata, peer: "127.0.0.1:41234", responseHeader: new Metadata() };
  const s = serverHook(method, handler);
  const run = () => {
    s?.request?.(request);
    s?.response?.(response);
  };
  if (s?.around) s.around(run);
  else run();
  s?.end?.(ok);
  c?.header?.(handler.responseHeader);
  c?.response?.(response);
  c?.end?.(ok);
}

const getter = { keys: (md) => Object.keys(md.getMap()), get: (md, k) => md.get(k)[0] };
const setter = { set: (md, k, v) => md.set(k, v) };
let floorHist;
function floorCall() {
  const tracer = trace.getTracer("floor");
  floorHist ??= [metrics.getMeter("floor").createHistogram("c"), metrics.getMeter("floor").createHistogram("s")];
  const attrs = { "rpc.system": "grpc", "rpc.service": "demo.v1.EchoService", "rpc.method": "Echo" };
  const metadata = new Metadata();
  const t0 = performance.now();
  const client = tracer.startSpan("demo.v1.EchoService/Echo", { kind: SpanKind.CLIENT, attributes: attrs });
  propagation.inject(trace.setSpan(context.active(), client), metadata, setter);
  const parent = propagation.extract(context.active(), metadata, getter);
  const server = tracer.startSpan("demo.v1.EchoService/Echo", { kind: SpanKind.SERVER, attributes: attrs }, parent);
  context.with(trace.setSpan(parent, server), () => undefined);
  server.setAttribute("rpc.grpc.status_code", 0);
  server.end();
  floorHist[1].record(performance.now() - t0, attrs);
  client.setAttribute("rpc.grpc.status_code", 0);
  client.end();
  floorHist[0].record(performance.now() - t0, attrs);
}

const scenarios = {
  nosdk: { sdk: false, call: hooksCall },
  sdk: { sdk: true, call: hooksCall },
  floor: { sdk: true, call: floorCall },
};
let uninstall;
async function measure(name) {
  const s = scenarios[name];
  if (s.sdk && !uninstall) uninstall = (await installSdk({ context, metrics, propagation, trace })).uninstall;
  if (!s.sdk && uninstall) (uninstall(), (uninstall = undefined));
  const t = performance.now();
  for (let i = 0; i < calls; i++) s.call();
  return ((performance.now() - t) * 1000) / calls;
}

const names = Object.keys(scenarios);
for (const n of names) await measure(n); // warm-up
const results = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < rounds; r++) for (const n of names) results[n].push(await measure(n));
console.log(`node ${process.version}, ${rounds} rounds x ${calls} calls, interleaved; us per call (client + server hook)\n`);
console.log("| scenario | median (us) | spread (min-max) |");
console.log("| --- | ---: | ---: |");
for (const n of names) console.log(`| ${n} | ${median(results[n]).toFixed(2)} | ${spread(results[n], 2)} |`);
