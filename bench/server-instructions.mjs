// Server instructions per call: the generated server (default options) vs a
// plain grpc-js server, each run under valgrind's callgrind, which counts the
// user-space instructions the server process executes (all its threads:
// JavaScript, JIT, GC, libuv, OpenSSL-free h2c). Unlike req/s and CPU time,
// the count does not move with what else the machine is doing, so it can
// tell a 5% difference on a shared VM. Kernel time (syscalls, loopback TCP)
// is not counted; it is the same work for both servers.
// Same servers (bench/server/serve.mjs), requests and h2load as
// bench/server-overhead.mjs. For each server: one process under callgrind;
// every scenario warmed up with --warmup calls, then measured runs of --calls
// calls each: counters zeroed (`callgrind_control -z`) before and dumped
// (`-d`) after each run. A run counts as steady when V8's JIT compilers
// (self cost of their functions, by callgrind_annotate) spent under
// --max-jit-share of its instructions; runs go on until --repeats steady
// runs are found, at most 3 x --repeats. Runs in which the JIT was busy are
// up to 35% dearer (compilation, and code not yet optimized): they are
// what made the raw counts noisy.
// Usage: npm run build && node bench/server-instructions.mjs
//   [--servers plain,generated[,generated-sync,propagating]] [--scenarios unary-1,unary-64,stream-1,stream-64]
//   [--warmup 8000] [--calls 3000] [--repeats 3] [--max-jit-share 0.01]
//   [--variant NAME=DIR ...] [--perf-map] [--validation-check last|first]
// --variant adds a generated server labelled NAME that loads echo_pb.js /
// echo_grpckit.js from DIR, as in bench/server-overhead.mjs (a patched copy
// of the runtime measured before the change is made).
// --validation-check: a generated server's INVALID_ARGUMENT probe runs after
// its measured runs (default) or before the warm-up, as in
// bench/server-overhead.mjs.
// --perf-map runs each server with node --perf-basic-prof and keeps the
// dumps, so that bench/server/callgrind-functions.mjs can name the
// JIT-compiled functions in them and compare two servers by function.
// Needs valgrind (apt-get install -y valgrind) and h2load (installed when
// missing, as in server-overhead.mjs). Takes about 5 minutes per server
// with the defaults. Prints, per scenario and server: instructions per call
// over the steady runs (median, min and max), how many runs were steady,
// the median over all runs, and the ratio of the steady medians vs plain.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import { ensureH2load, have, runScenario } from "./server/h2load.mjs";
import { checkServer, checkValidation, generateEcho, lengthPrefixed, startServer, validates } from "./server/setup.mjs";
import { choice, option } from "./server/args.mjs";

const root = new URL("..", import.meta.url).pathname;
const argv = process.argv.slice(2);
const opt = (name, def) => option(argv, name, def);
const kinds = opt("servers", "plain,generated").split(",");
const variants = argv.flatMap((a, i) => (argv[i - 1] === "--variant" ? [a.split("=")] : []));
const scenarioNames = opt("scenarios", "unary-1,unary-64,stream-1,stream-64").split(",");
const warmup = Number(opt("warmup", 8000));
const calls = Number(opt("calls", 3000));
const repeats = Number(opt("repeats", 3));
const maxJitShare = Number(opt("max-jit-share", 0.01));
const perfMap = argv.includes("--perf-map");
const validationCheck = choice(argv, "validation-check", ["last", "first"]);
const [serverCore, loadCore] = [1, 0];

if (!have("valgrind") || !have("callgrind_control") || !have("callgrind_annotate")) {
  throw new Error("valgrind is missing: install the Debian/Ubuntu package valgrind (apt-get install -y valgrind) and run again");
}
const valgrindVersion = execFileSync("valgrind", ["--version"], { encoding: "utf8" }).trim();
const h2loadVersion = ensureH2load();
const genDir = generateEcho(root);
const pb = await import(pathToFileURL(join(genDir, "echo_pb.js")).href);
const payload = new Uint8Array(100).fill(0x61);
const streamCount = 10;
const bodies = {
  unary: { path: "Echo", request: { payload } },
  stream: { path: "Expand", request: { payload, count: streamCount } },
};
for (const [name, b] of Object.entries(bodies)) {
  b.file = join(genDir, `${name}.body`);
  writeFileSync(b.file, lengthPrefixed(toBinary(pb.EchoRequestSchema, create(pb.EchoRequestSchema, b.request))));
}
const scenarios = scenarioNames.map((name) => {
  const [kind, streams] = name.split("-");
  if (!bodies[kind] || !(Number(streams) > 0)) throw new Error(`unknown scenario ${name} (use unary-N or stream-N)`);
  return { name, body: bodies[kind], streams: Number(streams) };
});

/** V8's optimizing and baseline compilers, parser and bytecode generator: JIT work, not steady-state work per call. */
const jitFunction = /v8::internal::(compiler|maglev|baseline|turboshaft|interpreter::BytecodeGenerator|Parser|Scanner|OptimizingCompileDispatcher)|v8::internal::Zone::/;

/**
 * One callgrind dump file: all instructions counted (its `summary:` line)
 * and those of JIT compilation (self cost of V8's compiler functions, by
 * callgrind_annotate), so that a run in which the JIT was still busy can be
 * told from a steady one.
 */
function instructionsIn(file) {
  const m = readFileSync(file, "utf8").match(/^summary: (\d+)/m);
  if (!m) throw new Error(`no summary line in ${file}`);
  const annotated = execFileSync("callgrind_annotate", ["--inclusive=no", "--threshold=100", file], { encoding: "utf8", maxBuffer: 256 << 20 });
  let jit = 0;
  for (const line of annotated.split("\n")) {
    const cost = line.match(/^\s*([\d,]+) \(/);
    if (cost && jitFunction.test(line)) jit += Number(cost[1].replaceAll(",", ""));
  }
  return { total: Number(m[1]), jit };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const k = (x) => `${(x / 1000).toFixed(1)}k`;

/** `n` calls of `scenario` against `server`; throws unless every call succeeded. */
function load(server, scenario, n) {
  const r = runScenario(server, scenario, { logDir: genDir, requests: n, core: loadCore });
  if (r.succeeded !== n) throw new Error(`${server.label} ${scenario.name}: ${r.succeeded} of ${n} calls succeeded`);
}

/** One server under callgrind: per scenario, the instructions per call of each measured run. */
async function measureServer({ kind, label, dir }) {
  const out = join(genDir, `callgrind-${label}`);
  const wrapper = ["valgrind", "--tool=callgrind", `--callgrind-out-file=${out}.%p`, "--dump-line=no", "--compress-strings=no"];
  const nodeArgs = perfMap ? ["--perf-basic-prof"] : [];
  const server = await startServer({ kind, label, root, genDir: dir, core: serverCore, wrapper, nodeArgs });
  console.log(`${label}: ${await checkServer(server.port, pb, { payload, count: streamCount })}`);
  const probe = async () => {
    if (validates(kind)) console.log(`${label}: ${await checkValidation(server.port, pb, { payload })}`);
  };
  if (validationCheck === "first") await probe();
  const perCall = {};
  for (const scenario of scenarios) load(server, scenario, warmup);
  let dumps = 0;
  for (const scenario of scenarios) {
    const runs = (perCall[scenario.name] = []);
    // Until `repeats` steady runs (JIT compilation under `maxJitShare` of the run), at most 3 x repeats runs.
    for (let i = 0; runs.filter((r) => r.steady).length < repeats && i < 3 * repeats; i++) {
      execFileSync("callgrind_control", ["-z", String(server.pid)], { stdio: "ignore" });
      load(server, scenario, calls);
      execFileSync("callgrind_control", ["-d", `${scenario.name}-${i}`, String(server.pid)], { stdio: "ignore" });
      dumps++;
      const { total, jit } = instructionsIn(`${out}.${server.pid}.${dumps}`);
      runs.push({ perCall: total / calls, jitShare: jit / total, steady: jit / total < maxJitShare });
      console.log(`${label} ${scenario.name} run ${i + 1}: ${k(total / calls)} instructions/call, JIT ${((100 * jit) / total).toFixed(1)}%`);
    }
  }
  if (validationCheck === "last") await probe();
  await server.stop();
  return perCall;
}

const specs = [...kinds.map((kind) => ({ kind, label: kind, dir: genDir })), ...variants.map(([label, dir]) => ({ kind: "generated", label, dir }))];
const results = {};
for (const spec of specs) results[spec.label] = await measureServer(spec);
if (perfMap) {
  console.log(`\ndumps kept in ${genDir} (callgrind-<server>.<pid>.<run>), perf maps in /tmp/perf-<pid>.map; compare two steady runs by function with`);
  console.log(`  node bench/server/callgrind-functions.mjs BASE.dump /tmp/perf-BASEPID.map OTHER.dump /tmp/perf-OTHERPID.map --calls ${calls}`);
} else if (!process.env.KEEP) rmSync(genDir, { recursive: true, force: true });

console.log(`\nnode ${process.version}, ${valgrindVersion} (callgrind), ${h2loadVersion}; per server and scenario: ${warmup} warm-up calls, then ${repeats} x ${calls} measured calls`);
console.log(`validation probe of the generated servers: ${validationCheck === "last" ? "after the measured runs" : "before the warm-up"}`);
console.log(`steady runs: JIT compilation under ${(maxJitShare * 100).toFixed(1)}% of the run's instructions (up to ${3 * repeats} runs to find ${repeats})`);
console.log("| scenario | server | instructions/call, steady runs (median) | min-max | steady / all runs | all runs (median) | vs plain (steady) |");
console.log("|---|---|---:|---:|---:|---:|---:|");
for (const { name } of scenarios) {
  const steadyOf = (label) => results[label][name].filter((r) => r.steady).map((r) => r.perCall);
  const base = results.plain && steadyOf("plain").length > 0 ? median(steadyOf("plain")) : undefined;
  for (const { label } of specs) {
    const all = results[label][name].map((r) => r.perCall);
    const xs = steadyOf(label);
    const m = xs.length > 0 ? median(xs) : undefined;
    const range = xs.length > 0 ? `${k(Math.min(...xs))}-${k(Math.max(...xs))}` : "-";
    console.log(`| ${name} | ${label} | ${m ? k(m) : "-"} | ${range} | ${xs.length} / ${all.length} | ${k(median(all))} | ${base && m ? (m / base).toFixed(3) : "-"} |`);
  }
}
