// Benchmark: unary throughput and p99 latency of a generated grpc-js server
// and client on 127.0.0.1 (one process, `--concurrency` calls in flight),
// scenarios side by side in one run (default: off nosdk sdkoff floor sdk):
//   off    - code generated with telemetry=false (no OpenTelemetry wiring)
//   nosdk  - default generated code (telemetry on), no SDK registered
//   sdkoff - code generated with telemetry=false, with the SDK below
//            registered but nothing instrumented: the SDK's mere presence
//   floor  - telemetry=false code with the minimal hand-written
//            instrumentation of telemetry-floor.mjs as user hooks (same
//            spans, attributes and duration points as ours): what any
//            instrumentation with this SDK pays; "sdk" / "floor" is what our
//            wiring adds beyond that
//   sdk    - default generated code with the OpenTelemetry SDK recording
//            every span (BatchSpanProcessor, counting exporter), metrics
//            (MeterProvider, in-memory reader collected every 10 s), W3C
//            trace context + baggage propagators and the AsyncLocalStorage
//            context manager (see installSdk)
// Ablations, with --scenarios off,...: sdk-notrace (no tracer provider),
// sdk-nometrics (no meter provider), sdk-nobatch (spans dropped as they end
// instead of batched for export), sdk-propagate (neither: context only,
// so no `traceparent` is sent), header (no SDK, telemetry=false code whose
// client hook adds a constant `traceparent` header: its wire cost alone).
// Each measurement runs in a fresh node process (warm-up first, then the
// measured window). Rounds interleave the scenarios (off nosdk sdkoff floor
// sdk, then rotated: nosdk sdkoff floor sdk off, ...), so load changes on the machine
// hit all of them alike. Reported: per scenario the median over rounds and the spread
// (min-max); the ratios against "off" are the medians of the per-round
// ratios (each round's scenario divided by the same round's "off"). The load
// average before and after the run is printed: on a loaded machine the
// spread shows how far to trust the medians.
//
// The plugin and runtime are compiled from the current sources into a
// private snapshot under tmp/ first (see buildSnapshot).
//
// On a loaded machine the CPU time per call of one process after the other
// swings by 2x. With --together, the scenarios of a round run as
// simultaneous processes (measured windows aligned), so they share the
// machine's state; compare CPU time per call then (throughput is split
// between them). bench/telemetry-paired.mjs measures the SDK scenarios in one
// process.
//
// Usage: node bench/telemetry.mjs [--rounds N] [--seconds S] [--warmup S] [--concurrency C] [--scenarios off,a,b] [--together]
// Goals: nosdk overhead <= 2 %, sdk overhead <= 15 % (throughput and p99).
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { loadavg, cpus } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { benchRoot, buildSnapshot, generateEcho, installSdk, median, spread } from "./telemetry-support.mjs";

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? def : Number(process.argv[i + 1]);
};
const scratch = join(benchRoot, "tmp", "bench-telemetry");
/**
 * code: which generated code ("off" = telemetry=false); sdk: the SDK parts
 * registered (see installSdk), absent = no SDK; floor: the hand-written
 * minimal instrumentation (telemetry-floor.mjs) as user hooks.
 */
const scenarios = {
  off: { code: "off" },
  nosdk: { code: "on" },
  sdkoff: { code: "off", sdk: {} },
  floor: { code: "off", sdk: {}, floor: true },
  sdk: { code: "on", sdk: {} },
  // Ablations (pick with --scenarios): the default code with parts of the SDK missing.
  "sdk-notrace": { code: "on", sdk: { tracing: false } },
  "sdk-nometrics": { code: "on", sdk: { metrics: false } },
  "sdk-propagate": { code: "on", sdk: { tracing: false, metrics: false } },
  "sdk-nobatch": { code: "on", sdk: { batch: false } },
  // No SDK: telemetry=false code whose client adds a constant W3C `traceparent` to every request (what
  // propagating a span context costs on the wire: one more header to encode, send, decode).
  header: { code: "off", traceparent: true },
};
const defaultScenarios = ["off", "nosdk", "sdkoff", "floor", "sdk"];

if (process.argv[2] === "--worker") {
  const [name, seconds, warmup, concurrency] = [process.argv[3], ...process.argv.slice(4, 7).map(Number)];
  console.log(JSON.stringify(await worker(name, { seconds, warmup, concurrency })));
} else {
  await main();
}

async function main() {
  const rounds = arg("rounds", 7);
  const seconds = arg("seconds", 3);
  const warmup = arg("warmup", 1.5);
  const concurrency = arg("concurrency", 16);
  const i = process.argv.indexOf("--scenarios");
  const names = i === -1 ? defaultScenarios : process.argv[i + 1].split(",");
  if (names[0] !== "off" || names.some((n) => !(n in scenarios))) throw new Error(`--scenarios: off first, then any of ${Object.keys(scenarios).join(" ")}`);
  buildSnapshot();
  generateEcho(join(scratch, "off"), false);
  generateEcho(join(scratch, "on"), true);
  const results = Object.fromEntries(names.map((n) => [n, []]));
  const loadBefore = loadavg();
  const together = process.argv.includes("--together");
  for (let r = 0; r < rounds; r++) {
    if (together) {
      const round = await runTogether(names, [seconds, warmup, concurrency]);
      for (const name of names) results[name].push(round[name]);
      continue;
    }
    const order = names.map((_, i) => names[(i + r) % names.length]);
    for (const name of order) {
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--worker", name, seconds, warmup, concurrency], {
        encoding: "utf8",
        timeout: (seconds + warmup + 60) * 1000,
      });
      results[name].push(JSON.parse(out.trim().split("\n").pop()));
    }
  }
  const loadAfter = loadavg();
  report(results, names, { rounds, seconds, warmup, concurrency, loadBefore, loadAfter, together });
}

/**
 * One round with every scenario's worker running at the same time: each
 * warms up, then all start their measured window together (a barrier on
 * stdin), so every scenario sees the same machine load at the same moment.
 * Throughput is then shared between the workers; CPU time per call is each
 * worker's own.
 */
async function runTogether(names, args) {
  const workers = names.map((name) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--worker", name, ...args.map(String)], {
      env: { ...process.env, BENCH_BARRIER: "1" },
      stdio: ["pipe", "pipe", "inherit"],
    });
    let out = "";
    const ready = new Promise((resolve) => child.stdout.on("data", (d) => ((out += d), out.includes("ready\n") && resolve())));
    return { name, child, ready, done: once(child, "exit").then(() => out) };
  });
  await Promise.all(workers.map((w) => w.ready));
  for (const w of workers) w.child.stdin.end("go\n");
  const round = {};
  for (const w of workers) round[w.name] = JSON.parse((await w.done).trim().split("\n").pop());
  return round;
}

function report(results, names, run) {
  const load = (l) => l.map((x) => x.toFixed(2)).join(" / ");
  console.log(
    `node ${process.version}, ${cpus().length} CPUs, ${run.rounds} rounds x ${run.seconds} s (after ${run.warmup} s warm-up), ${run.concurrency} calls in flight, ` +
      (run.together ? "all scenarios' processes running at the same time" : "one process at a time"),
  );
  console.log(`load average (1/5/15 min): before ${load(run.loadBefore)}, after ${load(run.loadAfter)}\n`);
  console.log("| scenario | calls/s median (spread) | p99 ms median (spread) | CPU us/call median (spread) | throughput vs off | p99 vs off | CPU/call vs off | CPU us/call minus off |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  // Per-round comparisons: each round's value against the same round's value of `base`.
  const paired = (n, base, key, f) => median(results[n].map((x, i) => f(x[key], results[base][i][key])));
  const ratio = (a, b) => a / b;
  for (const n of names) {
    const col = (key, digits) => {
      const xs = results[n].map((x) => x[key]);
      const ratios = xs.map((v, i) => v / results.off[i][key]);
      return [`${median(xs).toFixed(digits)} (${spread(xs, digits)})`, `${median(ratios).toFixed(3)} (${spread(ratios, 3)})`];
    };
    const [rps, p99, cpu] = [col("rps", 0), col("p99Ms", 2), col("cpuUs", 1)];
    const extra = paired(n, "off", "cpuUs", (a, b) => a - b).toFixed(1);
    console.log(`| ${n} | ${rps[0]} | ${p99[0]} | ${cpu[0]} | ${rps[1]} | ${p99[1]} | ${cpu[1]} | ${extra} |`);
  }
  const pct = (x) => `${((x - 1) * 100).toFixed(1)} %`;
  const compare = (n, base, what) =>
    names.includes(n) && names.includes(base)
      ? console.log(
          `${n} vs ${base} (${what}): throughput ${pct(paired(n, base, "rps", ratio))}, p99 ${pct(paired(n, base, "p99Ms", ratio))}, ` +
            `CPU per call ${pct(paired(n, base, "cpuUs", ratio))} (${paired(n, base, "cpuUs", (a, b) => a - b).toFixed(1)} us)`,
        )
      : undefined;
  console.log("\nmedians of per-round comparisons; goals: nosdk vs off >= -2 % throughput, sdk vs off >= -15 % throughput and <= +15 % p99");
  compare("nosdk", "off", "the wiring without an SDK");
  compare("sdk", "off", "the wiring with the SDK recording");
  compare("sdkoff", "off", "the SDK merely registered");
  compare("floor", "sdkoff", "the least any instrumentation with this SDK adds");
  compare("sdk", "floor", "what our wiring adds beyond that least");
  for (const n of names) {
    const spans = results[n].map((x) => x.spansPerCall).filter((x) => x !== undefined);
    if (spans.length > 0) console.log(`${n}: spans exported per call ${Math.min(...spans).toFixed(2)}-${Math.max(...spans).toFixed(2)}`);
  }
}

async function worker(name, { seconds, warmup, concurrency }) {
  const scenario = scenarios[name];
  let sdk;
  if (scenario.sdk !== undefined) sdk = await installSdk(await import("@opentelemetry/api"), scenario.sdk);
  const { createFloorHooks } = await import("./telemetry-floor.mjs");
  const grpc = await import("@grpc/grpc-js");
  const gen = await import(join(scratch, scenario.code, "demo", "v1", "echo_grpckit.js"));
  const server = new grpc.Server();
  let floor;
  const floorServerHook = (method, handler) => floor.serverHook(method, handler);
  gen.addPartialEchoService(server, { async echo(req) { return { text: req.text }; } }, scenario.floor && { hooks: [floorServerHook] });
  const port = await new Promise((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const target = `127.0.0.1:${port}`;
  if (scenario.floor) floor = createFloorHooks(target);
  const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const clientHooks = scenario.floor ? [floor.clientHook] : scenario.traceparent ? [(start) => void start.metadata.set("traceparent", traceparent)] : undefined;
  const client = new gen.EchoServiceClient(target, grpc.credentials.createInsecure(), clientHooks && { hooks: clientHooks });
  const run = async (ms, latencies) => {
    const until = performance.now() + ms;
    let calls = 0;
    const loop = async () => {
      while (performance.now() < until) {
        const t = performance.now();
        await client.echo({ text: "hello" });
        latencies?.push(performance.now() - t);
        calls++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
    return calls;
  };
  await run(warmup * 1000);
  if (process.env["BENCH_BARRIER"]) {
    process.stdout.write("ready\n");
    await once(process.stdin, "data");
  }
  const latencies = [];
  const exportedBefore = sdk?.exported();
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const calls = await run(seconds * 1000, latencies);
  const cpu = process.cpuUsage(cpuStart);
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  client.close();
  server.forceShutdown();
  const spansPerCall = scenario.sdk?.tracing !== false && sdk !== undefined ? (sdk.exported() - exportedBefore) / calls : undefined;
  return { rps: calls / elapsed, p99Ms: latencies[Math.floor(latencies.length * 0.99)], cpuUs: (cpu.user + cpu.system) / calls, spansPerCall };
}
