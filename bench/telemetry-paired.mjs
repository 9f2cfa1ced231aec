// Benchmark: the cost of recording with the OpenTelemetry SDK, measured
// side by side in ONE process, so load changes on a shared machine hit all
// scenarios alike (bench/telemetry.mjs runs a process per scenario, whose
// CPU time per call swings by 2x on a loaded machine). The SDK of
// telemetry-support.mjs (batch span processor, counting exporter, pull
// metric reader, W3C propagators, AsyncLocalStorage context manager) is
// registered for the whole process; three generated server + client pairs
// on 127.0.0.1 run unary calls (`--concurrency` in flight) in turns of
// `--slice` ms, rotating, for `--seconds` in all after a warm-up:
//   sdkoff - code generated with telemetry=false: the baseline
//   floor  - the same code with the minimal hand-written instrumentation of
//            telemetry-floor.mjs as user hooks: what any instrumentation
//            with this SDK pays
//   sdk    - the default generated code (our wiring)
// Per scenario: CPU time per call (process.cpuUsage over its slices; span
// export and GC work triggered by one scenario can land in another's slice,
// so differences are slightly understated) and calls per second of CPU.
// Printed: median over slices, and the medians of the per-turn ratios.
//
// With --ablate, also the floor without metrics (floor-nometrics), without
// spans (floor-nospans: context still extracted, injected and entered), and
// with neither (floor-context).
//
// With --sample R, root spans are sampled with ratio R (parent-based) instead
// of all recorded.
//
// Usage: node bench/telemetry-paired.mjs [--seconds S] [--slice MS] [--warmup S] [--concurrency C] [--ablate] [--sample R]
import { loadavg, cpus } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { benchRoot, buildSnapshot, generateEcho, installSdk, median, spread } from "./telemetry-support.mjs";

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? def : Number(process.argv[i + 1]);
};
const seconds = arg("seconds", 30);
const sliceMs = arg("slice", 250);
const warmup = arg("warmup", 3);
const concurrency = arg("concurrency", 16);
const scratch = join(benchRoot, "tmp", "bench-telemetry");

buildSnapshot();
generateEcho(join(scratch, "off"), false);
generateEcho(join(scratch, "on"), true);
const api = await import("@opentelemetry/api");
const sampleRatio = process.argv.includes("--sample") ? arg("sample", 1) : undefined;
const sdk = await installSdk(api, { sampleRatio });
const { createFloorHooks } = await import("./telemetry-floor.mjs");
const grpc = await import("@grpc/grpc-js");

async function startPair(code, floor, parts) {
  const gen = await import(join(scratch, code, "demo", "v1", "echo_grpckit.js"));
  const server = new grpc.Server();
  let hooks;
  const serverHook = (method, handler) => hooks.serverHook(method, handler);
  gen.addPartialEchoService(server, { async echo(req) { return { text: req.text }; } }, floor && { hooks: [serverHook] });
  const port = await new Promise((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const target = `127.0.0.1:${port}`;
  if (floor) hooks = createFloorHooks(target, parts);
  const client = new gen.EchoServiceClient(target, grpc.credentials.createInsecure(), floor && { hooks: [hooks.clientHook] });
  return { server, client };
}
const pairs = {
  sdkoff: await startPair("off"),
  floor: await startPair("off", true),
  sdk: await startPair("on"),
};
if (process.argv.includes("--ablate")) {
  // The floor with parts off, to split its cost.
  pairs["floor-nometrics"] = await startPair("off", true, { metrics: false });
  pairs["floor-nospans"] = await startPair("off", true, { spans: false });
  pairs["floor-context"] = await startPair("off", true, { metrics: false, spans: false });
}
const names = Object.keys(pairs);

/** Run `concurrency` call loops on one pair for `ms`; returns calls and CPU microseconds. */
async function slice(name, ms) {
  const { client } = pairs[name];
  const until = performance.now() + ms;
  let calls = 0;
  const loop = async () => {
    while (performance.now() < until) {
      await client.echo({ text: "hello" });
      calls++;
    }
  };
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, loop));
  const cpu = process.cpuUsage(cpu0);
  return { calls, cpuUs: cpu.user + cpu.system };
}

const loadBefore = loadavg();
for (let t = performance.now(); performance.now() - t < warmup * 1000; ) for (const n of names) await slice(n, sliceMs);
const turns = [];
const spansBefore = sdk.exported();
let instrumentedCalls = 0;
for (let t = performance.now(), r = 0; performance.now() - t < seconds * 1000; r++) {
  const turn = {};
  for (let i = 0; i < names.length; i++) {
    const n = names[(i + r) % names.length];
    turn[n] = await slice(n, sliceMs);
  }
  for (const n of ["sdk", "floor", "floor-nometrics"]) instrumentedCalls += turn[n]?.calls ?? 0;
  turns.push(turn);
}
const spansPerCall = (sdk.exported() - spansBefore) / instrumentedCalls;
const loadAfter = loadavg();
for (const { client, server } of Object.values(pairs)) (client.close(), server.forceShutdown());

const load = (l) => l.map((x) => x.toFixed(2)).join(" / ");
console.log(`node ${process.version}, ${cpus().length} CPUs, ${turns.length} turns of ${names.length} x ${sliceMs} ms, ${concurrency} calls in flight, one process`);
console.log(
  `load average (1/5/15 min): before ${load(loadBefore)}, after ${load(loadAfter)}; spans exported per call with spans ${spansPerCall.toFixed(2)}` +
    (sampleRatio === undefined ? " (all recorded)" : ` (sampler: parent-based, ratio ${sampleRatio})`) + "\n",
);
console.log("| scenario | CPU us/call median (spread) | CPU/call vs sdkoff | CPU us/call minus sdkoff | calls per CPU-second vs sdkoff |");
console.log("| --- | ---: | ---: | ---: | ---: |");
const perCall = (x) => x.cpuUs / x.calls;
const pct = (x) => `${x >= 1 ? "+" : ""}${((x - 1) * 100).toFixed(1)} %`;
for (const n of names) {
  const xs = turns.map((t) => perCall(t[n]));
  const ratio = turns.map((t) => perCall(t[n]) / perCall(t.sdkoff));
  const diff = turns.map((t) => perCall(t[n]) - perCall(t.sdkoff));
  console.log(
    `| ${n} | ${median(xs).toFixed(1)} (${spread(xs, 1)}) | ${median(ratio).toFixed(3)} (${spread(ratio, 3)}) | ${median(diff).toFixed(1)} | ${pct(1 / median(ratio))} |`,
  );
}
const sdkVsFloor = median(turns.map((t) => perCall(t.sdk) / perCall(t.floor)));
const sdkMinusFloor = median(turns.map((t) => perCall(t.sdk) - perCall(t.floor)));
console.log(`\nsdk vs floor (what our wiring costs beyond the least any instrumentation with this SDK does): CPU per call ${pct(sdkVsFloor)} (${sdkMinusFloor.toFixed(1)} us)`);
await sdk.shutdown?.();
process.exit(0);
