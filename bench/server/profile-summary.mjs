// Summarise a V8 .cpuprofile of a bench server (node --cpu-prof, written by
// `node bench/server-overhead.mjs --cpu-prof DIR`): the top functions by self
// time, the inclusive time of the runtime's functions, and the share of
// categories (AbortController, timers, AsyncLocalStorage, metadata, promise
// jobs, GC, ...), each as % of the non-idle samples.
// Usage: node bench/server/profile-summary.mjs <file.cpuprofile> [top=25] [calls]
// With `calls` (the number of calls the server served, printed by the bench),
// every figure also gets its CPU µs per call.
import { readFileSync } from "node:fs";

const [file, topArg, callsArg] = process.argv.slice(2);
const top = Number(topArg ?? 25);
const calls = callsArg === undefined ? undefined : Number(callsArg);
const profile = JSON.parse(readFileSync(file, "utf8"));

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const shortUrl = (url) => url.replace(/^file:\/\/.*?\/(node_modules\/|templates\/runtime\/dist\/esm\/|bench\/|tmp\/[^/]+\/)/, "$1").replace(/^node:internal\//, "node:");
const keyOf = (n) => {
  const f = n.callFrame;
  return f.url ? `${f.functionName || "(anonymous)"} ${shortUrl(f.url)}:${f.lineNumber + 1}` : f.functionName;
};
const isRuntime = (url) => url.includes("/templates/runtime/dist/") || url.includes("/@grpckit/runtime/");

/** Categories, by a test on any frame of a sample's stack (inclusive). */
const categories = [
  ["grpckit runtime, any frame (inclusive)", (f) => isRuntime(f.url)],
  ["  telemetry hook (runtime telemetry/)", (f) => isRuntime(f.url) && f.url.includes("/telemetry/")],
  ["  validation hook (runtime validate/ + generated _validate.js)", (f) => (isRuntime(f.url) && f.url.includes("/validate/")) || f.url.endsWith("_validate.js")],
  ["  @opentelemetry/api (no SDK)", (f) => f.url.includes("/@opentelemetry/api/")],
  ["AbortController / AbortSignal", (f) => f.url === "node:internal/abort_controller" || /^Abort(Controller|Signal)$/.test(f.functionName)],
  ["timers (setTimeout / clearTimeout / unref)", (f) => f.url === "node:timers" || f.url === "node:internal/timers"],
  ["AsyncLocalStorage (run / getStore)", (f) => f.url.includes("async_local_storage") || (f.url === "node:async_hooks" && f.functionName === "run")],
  ["grpc-js Metadata (any caller)", (f) => f.url.endsWith("/grpc-js/build/src/metadata.js")],
  ["promise jobs (runMicrotasks / processTicksAndRejections)", (f) => f.functionName === "runMicrotasks" || f.functionName === "processTicksAndRejections"],
  ["@bufbuild/protobuf (codec, create)", (f) => f.url.includes("/@bufbuild/protobuf/")],
  ["grpc-js (any frame)", (f) => f.url.includes("/@grpc/grpc-js/")],
  ["node http2 core", (f) => f.url.startsWith("node:internal/http2") || f.url === "node:http2"],
];

const self = new Map();
const inclusive = new Map();
const catTime = new Map(categories.map(([name]) => [name, 0]));
let total = 0;
let idle = 0;
const { samples, timeDeltas } = profile;
for (let i = 0; i < samples.length; i++) {
  const dt = timeDeltas[i + 1] ?? 0;
  const leaf = byId.get(samples[i]);
  if (leaf.callFrame.functionName === "(idle)") {
    idle += dt;
    continue;
  }
  total += dt;
  self.set(keyOf(leaf), (self.get(keyOf(leaf)) ?? 0) + dt);
  const seen = new Set();
  const frames = [];
  for (let id = samples[i]; id !== undefined; id = parent.get(id)) {
    const n = byId.get(id);
    frames.push(n.callFrame);
    if (isRuntime(n.callFrame.url)) seen.add(keyOf(n));
  }
  for (const k of seen) inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
  for (const [name, test] of categories) if (frames.some(test)) catTime.set(name, catTime.get(name) + dt);
}

const pct = (t) => `${((100 * t) / total).toFixed(1)}%` + (calls ? ` | ${(t / calls).toFixed(2)}` : "");
const perCallHead = calls ? " | µs/call" : "";
const perCallRule = calls ? "|---:" : "";
const sorted = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]);
console.log(`${file}: ${(total / 1e6).toFixed(2)} s of non-idle samples (${samples.length} samples; idle ${(idle / 1e6).toFixed(2)} s excluded)`);
if (calls) console.log(`${calls} calls: ${(total / calls).toFixed(1)} µs of non-idle CPU samples per call`);
console.log(`\n| category | share of non-idle CPU${perCallHead} |\n|---|---:${perCallRule}|`);
for (const [name, t] of catTime) console.log(`| ${name} | ${pct(t)} |`);
console.log(`| GC ((garbage collector), self) | ${pct(self.get("(garbage collector)") ?? 0)} |`);
console.log(`| native, not attributed ((program), self) | ${pct(self.get("(program)") ?? 0)} |`);
console.log(`\nTop ${top} functions by self time:\n| function | self${perCallHead} |\n|---|---:${perCallRule}|`);
for (const [k, t] of sorted(self).slice(0, top)) console.log(`| \`${k}\` | ${pct(t)} |`);
console.log(`\nRuntime functions by inclusive time:\n| function | inclusive${perCallHead} |\n|---|---:${perCallRule}|`);
for (const [k, t] of sorted(inclusive).slice(0, top)) console.log(`| \`${k}\` | ${pct(t)} |`);
