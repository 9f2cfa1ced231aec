// Micro-benchmark of the telemetry hooks alone (no network): the per-call
// cost of one client hook + one server hook driving a unary call
// (start, request, response, end), in microseconds per call.
//   nosdk    - no SDK registered (the hooks step aside)
//   sdk      - the SDK recording spans (batch processor, dropping exporter),
//              metrics (pull reader), W3C propagators, AsyncLocalStorage
//   floor    - with the same SDK: the minimal hand-written hooks of
//              telemetry-floor.mjs (same spans, attributes and duration
//              points, context injected / extracted, one context.with); the
//              "sdk" result minus this is what our hooks add on top
// The loop yields to the event loop every 256 calls so the batch span
// processor exports (a synchronous loop would make it drop spans).
// Scenarios are interleaved in rounds (A B C A B C ...) in one process after a
// warm-up; the median of the rounds and the spread (min-max) are printed.
//
// Usage: node bench/telemetry-hooks.mjs [--rounds N] [--calls N]
import { create } from "@bufbuild/protobuf";
import { Metadata } from "@grpc/grpc-js";
import { context, metrics, propagation, trace } from "@opentelemetry/api";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createFloorHooks } from "./telemetry-floor.mjs";
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

const ours = { clientHook: createClientTelemetryHook({ target: "127.0.0.1:50051" }), serverHook: createServerTelemetryHook() };

/** One unary call through a client hook and a server hook: start, request, response, end. */
function hooksCall(clientHook, serverHook) {
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

let floorHooks; // created with each SDK registration (a meter taken before stays a no-op, a tracer keeps its provider)
const scenarios = {
  nosdk: { sdk: false, call: () => hooksCall(ours.clientHook, ours.serverHook) },
  sdk: { sdk: true, call: () => hooksCall(ours.clientHook, ours.serverHook) },
  floor: { sdk: true, call: () => hooksCall(floorHooks.clientHook, floorHooks.serverHook) },
};
let sdk;
const exported = { sdk: 0, floor: 0 };
const measured = { sdk: 0, floor: 0 };
async function measure(name) {
  const s = scenarios[name];
  if (s.sdk && !sdk) {
    sdk = await installSdk({ context, metrics, propagation, trace });
    floorHooks = createFloorHooks("127.0.0.1:50051"); // its tracer and meter belong to this SDK
  }
  if (!s.sdk && sdk) (sdk.uninstall(), (sdk = undefined));
  const before = sdk?.exported();
  const t = performance.now();
  for (let i = 0; i < calls; i++) {
    s.call();
    // Let the batch span processor export (its export completes in a microtask): without it, a
    // synchronous loop fills its queue and every later span is dropped, which is cheaper than recording.
    if (i % 256 === 255) await new Promise(setImmediate);
  }
  const us = ((performance.now() - t) * 1000) / calls;
  if (sdk) await new Promise(setImmediate);
  if (name in exported) (exported[name] += sdk.exported() - before, (measured[name] += calls));
  return us;
}

const names = Object.keys(scenarios);
for (const n of names) await measure(n); // warm-up
const results = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < rounds; r++) for (const n of names) results[n].push(await measure(n));
console.log(`node ${process.version}, ${rounds} rounds x ${calls} calls, interleaved; us per call (client + server hook)\n`);
console.log("| scenario | median (us) | spread (min-max) |");
console.log("| --- | ---: | ---: |");
for (const n of names) console.log(`| ${n} | ${median(results[n]).toFixed(2)} | ${spread(results[n], 2)} |`);
console.log(`\nspans exported per call: sdk ${(exported.sdk / measured.sdk).toFixed(2)}, floor ${(exported.floor / measured.floor).toFixed(2)} (2 = none dropped)`);
