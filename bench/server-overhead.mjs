// Server overhead: the generated server (default options: request
// validation, telemetry API without an SDK, deadline propagation) vs a plain
// grpc-js server with callback handlers (and nice-grpc as a peer), each in its
// own process pinned to core 1, loaded by h2load (a C HTTP/2 client, gRPC over
// h2c) pinned to core 0, on the same echo service: unary (100 B payload) and
// server streaming (10 messages of 100 B), at 1 and 64 concurrent streams on
// one connection; a scenario name ending in "-t" (e.g. unary-64-t) sends a
// `grpc-timeout: 10S` with every call (the deadline path). Servers alternate
// in rounds (the order rotates each round) so that load drift hits all alike.
// Usage: npm run build && node bench/server-overhead.mjs
//   [--rounds 3] [--seconds 3] [--warmup 2] [--servers plain,generated,nice[,propagating,generated-sync]]
//   [--scenarios unary-1,unary-64,stream-1,stream-64] [--cpu-prof DIR]
//   [--variant NAME=DIR ...] [--validation-check last|first] [--threads]
// --variant adds a generated server labelled NAME that loads echo_pb.js /
// echo_grpckit.js from DIR (bench/server/echo.proto generated elsewhere, e.g.
// against a patched copy of the runtime, to measure a change before making it).
// --cpu-prof profiles the servers (default: only the generated one) during
// the measured rounds (after warm-up) and writes DIR/<server>.cpuprofile; summarise them with
// bench/server/profile-summary.mjs (see bench/server/PROFILE.md).
// --validation-check: when the generated servers' INVALID_ARGUMENT probe runs
// (checkValidation in bench/server/setup.mjs): after the measured rounds
// (default), or before the warm-up, as before 2026-12-04 (its error answer
// then makes @bufbuild/protobuf's encoding sites megamorphic in the
// generated servers' processes alone).
// --threads: also a table of each server's CPU per call split by thread
// (the main thread vs the rest: V8's platform workers for GC and compiling,
// libuv's pool), from /proc/<pid>/task/*/schedstat (Linux), with voluntary
// context switches per call.
// Prints, per scenario and server: req/s (median of rounds), p50 / p99 of
// h2load's per-request times (all rounds pooled), server CPU µs per call
// (process.cpuUsage of the server process), ratios vs plain grpc-js, and the
// load average before and after.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import { ensureH2load, runScenario } from "./server/h2load.mjs";
import { checkServer, checkValidation, generateEcho, installNiceGrpc, lengthPrefixed, startServer, validates } from "./server/setup.mjs";
import { choice, option } from "./server/args.mjs";

const root = new URL("..", import.meta.url).pathname;
const argv = process.argv.slice(2);
const opt = (name, def) => option(argv, name, def);
const rounds = Number(opt("rounds", 3));
const seconds = Number(opt("seconds", 3));
const warmup = Number(opt("warmup", 2));
const profileDir = opt("cpu-prof");
let kinds = opt("servers", profileDir ? "generated" : "plain,generated,nice").split(",");
const scenarioNames = opt("scenarios", "unary-1,unary-64,stream-1,stream-64").split(",");
const byThread = argv.includes("--threads");
const validationCheck = choice(argv, "validation-check", ["last", "first"]);
const [serverCore, loadCore] = [1, 0];
const niceVersion = "2.1.18";

const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");
const loadBefore = load();
const h2loadVersion = ensureH2load();
const genDir = generateEcho(root);
const pb = await import(pathToFileURL(join(genDir, "echo_pb.js")).href);
const peerDir = kinds.includes("nice") ? installNiceGrpc(root, niceVersion) : undefined;
if (!peerDir) kinds = kinds.filter((k) => k !== "nice");

const payload = new Uint8Array(100).fill(0x61);
const streamCount = 10;
const responseBytes = (index) => 5 + toBinary(pb.EchoResponseSchema, create(pb.EchoResponseSchema, { payload, index })).length;
const bodies = {
  unary: { path: "Echo", request: { payload }, bytesPerCall: responseBytes(0) },
  stream: {
    path: "Expand",
    request: { payload, count: streamCount },
    bytesPerCall: Array.from({ length: streamCount }, (_, i) => responseBytes(i)).reduce((a, b) => a + b, 0),
  },
};
for (const [name, b] of Object.entries(bodies)) {
  b.file = join(genDir, `${name}.body`);
  writeFileSync(b.file, lengthPrefixed(toBinary(pb.EchoRequestSchema, create(pb.EchoRequestSchema, b.request))));
}
const scenarios = scenarioNames.map((name) => {
  const [kind, streams, flag] = name.split("-");
  if (!bodies[kind] || !(Number(streams) > 0) || (flag !== undefined && flag !== "t")) throw new Error(`unknown scenario ${name} (use unary-N, stream-N, unary-N-t or stream-N-t)`);
  return { name, body: bodies[kind], streams: Number(streams), timeout: flag === "t" ? "10S" : undefined };
});

if (profileDir) mkdirSync(profileDir, { recursive: true });
const servers = [];
const variants = argv.flatMap((a, i) => (argv[i - 1] === "--variant" ? [a.split("=")] : []));
const specs = [...kinds.map((kind) => ({ kind, label: kind, dir: genDir })), ...variants.map(([label, dir]) => ({ kind: "generated", label, dir }))];
for (const { kind, label, dir } of specs) {
  const profileFile = profileDir ? join(profileDir, `${label}.cpuprofile`) : undefined;
  servers.push(await startServer({ kind, label, root, genDir: dir, peerDir, core: serverCore, profileFile }));
}
for (const s of servers) console.log(`${s.label}: ${await checkServer(s.port, pb, { payload, count: streamCount })}`);
/** The INVALID_ARGUMENT probe of every generated server (see --validation-check). */
async function checkValidations() {
  for (const s of servers) if (validates(s.kind)) console.log(`${s.label}: ${await checkValidation(s.port, pb, { payload })}`);
}
if (validationCheck === "first") await checkValidations();

/** One h2load run against one server; returns its figures, the server CPU spent, and whether every 2xx carried its full body. */
async function measure(server, scenario, secs) {
  const cpu0 = await server.cpuUs();
  const threads0 = byThread ? server.threadTimes() : undefined;
  const r = runScenario(server, scenario, { logDir: genDir, seconds: secs, core: loadCore, timeout: scenario.timeout });
  const cpuUs = (await server.cpuUs()) - cpu0;
  server.calls = (server.calls ?? 0) + r.done;
  const per = scenario.body.bytesPerCall;
  const complete = r.failed === 0 && r.dataBytes >= r.succeeded * per && r.dataBytes <= (r.succeeded + scenario.streams) * per;
  const calls = Math.max(1, r.done);
  let threads;
  if (threads0) {
    const t = server.threadTimes();
    threads = { mainUs: (t.mainUs - threads0.mainUs) / calls, otherUs: (t.otherUs - threads0.otherUs) / calls, switches: (t.switches - threads0.switches) / calls };
  }
  return { ...r, rps: r.succeeded / r.seconds, cpuPerCallUs: cpuUs / calls, threads, complete };
}

for (const scenario of scenarios) for (const s of servers) await measure(s, scenario, warmup);
for (const s of servers) {
  s.calls = 0;
  s.profileStart();
}
const results = {};
for (let round = 0; round < rounds; round++) {
  for (const scenario of scenarios) {
    const order = servers.map((_, i) => servers[(i + round) % servers.length]);
    for (const s of order) {
      const r = await measure(s, scenario, seconds);
      ((results[scenario.name] ??= {})[s.label] ??= []).push(r);
      if (!r.complete) console.log(`warning: ${s.label} ${scenario.name} round ${round}: ${r.failed} failed, ${r.dataBytes} DATA bytes for ${r.succeeded} calls`);
    }
  }
}
if (validationCheck === "last") await checkValidations();
for (const s of servers) await s.stop();
if (profileDir) for (const s of servers) console.log(`${s.label}: ${s.calls} calls measured, profile ${join(profileDir, `${s.label}.cpuprofile`)}`);
printTables();
rmSync(genDir, { recursive: true, force: true });

function median(xs) {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

function printTables() {
  const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  const summary = (runs) => {
    const lat = Float64Array.from(runs.flatMap((r) => r.latenciesUs)).sort();
    return {
      rps: median(runs.map((r) => r.rps)),
      p50: pct(lat, 50) / 1000,
      p99: pct(lat, 99) / 1000,
      cpu: median(runs.map((r) => r.cpuPerCallUs)),
      ok: runs.every((r) => r.complete),
    };
  };
  console.log(`\nnode ${process.version}, ${h2loadVersion}, servers on core ${serverCore}, h2load on core ${loadCore}; ${rounds} rounds x ${seconds} s per server and scenario after ${warmup} s warm-up`);
  console.log(`load average (1/5/15 min): before ${loadBefore}, after ${load()}; validation probe ${validationCheck === "last" ? "after the measured rounds" : "before the warm-up"}`);
  console.log("| scenario | server | req/s | p50 ms | p99 ms | CPU µs/call | req/s vs plain | p99 vs plain | CPU vs plain | all 2xx full bodies |");
  console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
  for (const scenario of scenarios) {
    const sums = Object.fromEntries(Object.entries(results[scenario.name]).map(([k, runs]) => [k, summary(runs)]));
    const base = sums.plain;
    for (const [kind, x] of Object.entries(sums)) {
      const ratio = (key) => (base ? (x[key] / base[key]).toFixed(3) : "-");
      console.log(`| ${scenario.name} | ${kind} | ${x.rps.toFixed(0)} | ${x.p50.toFixed(3)} | ${x.p99.toFixed(3)} | ${x.cpu.toFixed(1)} | ${ratio("rps")} | ${ratio("p99")} | ${ratio("cpu")} | ${x.ok ? "yes" : "NO"} |`);
    }
  }
  if (byThread) printThreadTable();
}

/** --threads: CPU per call of the main thread and of the others, medians of the rounds. */
function printThreadTable() {
  console.log("\n| scenario | server | main thread µs/call | other threads µs/call | voluntary context switches/call | main thread vs plain |");
  console.log("|---|---|---:|---:|---:|---:|");
  for (const scenario of scenarios) {
    const rows = Object.entries(results[scenario.name]).map(([kind, runs]) => {
      const m = (key) => median(runs.map((r) => r.threads[key]));
      return { kind, main: m("mainUs"), other: m("otherUs"), switches: m("switches") };
    });
    const base = rows.find((row) => row.kind === "plain");
    for (const row of rows) {
      const ratio = base ? (row.main / base.main).toFixed(3) : "-";
      console.log(`| ${scenario.name} | ${row.kind} | ${row.main.toFixed(1)} | ${row.other.toFixed(1)} | ${row.switches.toFixed(2)} | ${ratio} |`);
    }
  }
}
