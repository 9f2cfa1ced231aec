// Server instructions per call: the generated server (default options) vs a
// plain grpc-js server, each run under valgrind's callgrind, which counts the
// user-space instructions the server process executes (all its threads:
// JavaScript, JIT, GC, libuv, OpenSSL-free h2c). Unlike req/s and CPU time,
// the count does not move with what else the machine is doing, so it can
// tell a 5% difference on a shared VM. Kernel time (syscalls, loopback TCP)
// is not counted; it is the same work for both servers.
// Same servers (bench/server/serve.mjs), requests and h2load as
// bench/server-overhead.mjs. For each server: one process under callgrind;
// every scenario warmed up with --warmup calls (the JIT settles), then
// --repeats measured runs of --calls calls each: counters zeroed
// (`callgrind_control -z`) before and dumped (`-d`) after each run.
// Usage: npm run build && node bench/server-instructions.mjs
//   [--servers plain,generated] [--scenarios unary-1,unary-64,stream-1,stream-64]
//   [--warmup 8000] [--calls 3000] [--repeats 3]
// Needs valgrind (apt-get install -y valgrind) and h2load (installed when
// missing, as in server-overhead.mjs). Takes about 5 minutes per server
// with the defaults. Prints, per scenario and server: instructions per call
// (median of the repeats, with min and max), and the ratio vs plain.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import { ensureH2load, have, runScenario } from "./server/h2load.mjs";
import { checkServer, generateEcho, lengthPrefixed, startServer } from "./server/setup.mjs";

const root = new URL("..", import.meta.url).pathname;
const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const kinds = opt("servers", "plain,generated").split(",");
const scenarioNames = opt("scenarios", "unary-1,unary-64,stream-1,stream-64").split(",");
const warmup = Number(opt("warmup", 8000));
const calls = Number(opt("calls", 3000));
const repeats = Number(opt("repeats", 3));
const [serverCore, loadCore] = [1, 0];

if (!have("valgrind") || !have("callgrind_control")) {
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

/** Instructions counted in one callgrind dump file (its `summary:` line). */
function instructionsIn(file) {
  const m = readFileSync(file, "utf8").match(/^summary: (\d+)/m);
  if (!m) throw new Error(`no summary line in ${file}`);
  return Number(m[1]);
}

/** `n` calls of `scenario` against `server`; throws unless every call succeeded. */
function load(server, scenario, n) {
  const r = runScenario(server, scenario, { logDir: genDir, requests: n, core: loadCore });
  if (r.succeeded !== n) throw new Error(`${server.label} ${scenario.name}: ${r.succeeded} of ${n} calls succeeded`);
}

/** One server under callgrind: per scenario, the instructions per call of each measured run. */
async function measureServer(kind) {
  const out = join(genDir, `callgrind-${kind}`);
  const wrapper = ["valgrind", "--tool=callgrind", `--callgrind-out-file=${out}.%p`, "--dump-line=no", "--compress-strings=no"];
  const server = await startServer({ kind, root, genDir, core: serverCore, wrapper });
  console.log(`${kind}: ${await checkServer(server.port, pb, { payload, count: streamCount, validates: kind === "generated" })}`);
  const perCall = {};
  for (const scenario of scenarios) load(server, scenario, warmup);
  let dumps = 0;
  for (const scenario of scenarios) {
    for (let i = 0; i < repeats; i++) {
      execFileSync("callgrind_control", ["-z", String(server.pid)], { stdio: "ignore" });
      load(server, scenario, calls);
      execFileSync("callgrind_control", ["-d", `${scenario.name}-${i}`, String(server.pid)], { stdio: "ignore" });
      dumps++;
      (perCall[scenario.name] ??= []).push(instructionsIn(`${out}.${server.pid}.${dumps}`) / calls);
    }
  }
  await server.stop();
  return perCall;
}

const results = {};
for (const kind of kinds) results[kind] = await measureServer(kind);
rmSync(genDir, { recursive: true, force: true });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const k = (x) => `${(x / 1000).toFixed(1)}k`;
console.log(`\nnode ${process.version}, ${valgrindVersion} (callgrind), ${h2loadVersion}; per server and scenario: ${warmup} warm-up calls, then ${repeats} x ${calls} measured calls`);
console.log("| scenario | server | instructions/call (median) | min-max | vs plain |");
console.log("|---|---|---:|---:|---:|");
for (const { name } of scenarios) {
  const base = results.plain ? median(results.plain[name]) : undefined;
  for (const kind of kinds) {
    const xs = results[kind][name];
    const m = median(xs);
    console.log(`| ${name} | ${kind} | ${k(m)} | ${k(Math.min(...xs))}-${k(Math.max(...xs))} | ${base ? (m / base).toFixed(3) : "-"} |`);
  }
}
