// Summarise a V8 .cpuprofile of a bench server (written by
// `node bench/server-overhead.mjs --cpu-prof DIR`, which also prints the
// number of calls measured): the share and CPU µs per call of categories
// (AbortController, timers, AsyncLocalStorage, metadata, promise jobs, GC,
// ...), the top functions by self time, and the inclusive time of the
// runtime's functions, over the non-idle samples. With `--base`, the same for
// a second profile (plain grpc-js) side by side, and the functions whose self
// time per call grew the most.
// Usage: node bench/server/profile-summary.mjs <file.cpuprofile> <calls>
//   [--base <plain.cpuprofile> <calls>] [--top 25]
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
const flag = (name) => args.indexOf(`--${name}`);
const top = flag("top") >= 0 ? Number(args[flag("top") + 1]) : 25;

const shortUrl = (url) => url.replace(/^file:\/\/.*?\/(node_modules\/|templates\/runtime\/dist\/esm\/|bench\/|tmp\/[^/]+\/)/, "$1").replace(/^node:internal\//, "node:");
const keyOf = (f) => (f.url ? `${f.functionName || "(anonymous)"} ${shortUrl(f.url)}:${f.lineNumber + 1}` : f.functionName);
const isRuntime = (url) => url.includes("/templates/runtime/dist/") || url.includes("/@grpckit/runtime/");

/** Categories, by a test `(frame, leaf)` on any frame of a sample's stack (inclusive; self when it tests `frame === leaf`). */
const categories = [
  ["grpckit runtime, any frame (inclusive)", (f) => isRuntime(f.url)],
  ["  telemetry hook (runtime telemetry/)", (f) => isRuntime(f.url) && f.url.includes("/telemetry/")],
  ["  validation hook (runtime validate/ + generated _validate.js)", (f) => (isRuntime(f.url) && f.url.includes("/validate/")) || f.url.endsWith("_validate.js")],
  ["  @opentelemetry/api (no SDK)", (f) => f.url.includes("/@opentelemetry/api/")],
  ["AbortController / AbortSignal", (f) => f.url === "node:internal/abort_controller" || /^Abort(Controller|Signal)$/.test(f.functionName)],
  ["timers (setTimeout / clearTimeout / unref)", (f) => f.url === "node:timers" || f.url === "node:internal/timers"],
  ["AsyncLocalStorage (run / getStore)", (f) => f.url.includes("async_local_storage") || (f.url === "node:async_hooks" && f.functionName === "run")],
  ["async_hooks, self (promise / init hooks and callback trampoline an AsyncLocalStorage enables)", (f, leaf) => f === leaf && (f.url === "node:async_hooks" || f.url === "node:internal/async_hooks")],
  ["grpc-js Metadata (any caller)", (f) => f.url.endsWith("/grpc-js/build/src/metadata.js")],
  ["promise jobs (runMicrotasks / processTicksAndRejections)", (f) => f.functionName === "runMicrotasks" || f.functionName === "processTicksAndRejections"],
  ["@bufbuild/protobuf (codec, create)", (f) => f.url.includes("/@bufbuild/protobuf/")],
  ["grpc-js (any frame)", (f) => f.url.includes("/@grpc/grpc-js/")],
  ["node http2 core", (f) => f.url.startsWith("node:internal/http2") || f.url === "node:http2"],
];

/**
 * Read one profile: `{ file, calls, total, idle, self, inclusive, cat }`,
 * times in µs; `self` / `inclusive` map function keys (name url:line) to
 * time, `inclusive` only for runtime functions; `cat` maps category names
 * to the time of samples with a matching frame anywhere on the stack.
 */
function analyse(file, calls) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const r = { file, calls, total: 0, idle: 0, self: new Map(), inclusive: new Map(), cat: new Map(categories.map(([name]) => [name, 0])) };
  const add = (m, k, dt) => m.set(k, (m.get(k) ?? 0) + dt);
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const dt = timeDeltas[i + 1] ?? 0;
    const leaf = byId.get(samples[i]).callFrame;
    if (leaf.functionName === "(idle)") {
      r.idle += dt;
      continue;
    }
    r.total += dt;
    add(r.self, keyOf(leaf), dt);
    const frames = [];
    for (let id = samples[i]; id !== undefined; id = parent.get(id)) frames.push(byId.get(id).callFrame);
    for (const k of new Set(frames.filter((f) => isRuntime(f.url)).map(keyOf))) add(r.inclusive, k, dt);
    for (const [name, test] of categories) if (frames.some((f) => test(f, leaf))) add(r.cat, name, dt);
  }
  r.cat.set("GC ((garbage collector), self)", r.self.get("(garbage collector)") ?? 0);
  r.cat.set("native, not attributed ((program), self)", r.self.get("(program)") ?? 0);
  return r;
}

const main = analyse(args[0], Number(args[1]));
const base = flag("base") >= 0 ? analyse(args[flag("base") + 1], Number(args[flag("base") + 2])) : undefined;
const perCall = (r, m, k) => (m === undefined ? r.total : (r[m].get(k) ?? 0)) / r.calls;
const row = (name, m, k) => {
  const share = `${((100 * (m === undefined ? main.total : (main[m].get(k) ?? 0))) / main.total).toFixed(1)}%`;
  const own = perCall(main, m, k);
  if (!base) return `| ${name} | ${share} | ${own.toFixed(2)} |`;
  const b = perCall(base, m, k);
  return `| ${name} | ${share} | ${own.toFixed(2)} | ${b.toFixed(2)} | ${(own - b >= 0 ? "+" : "") + (own - b).toFixed(2)} |`;
};
const head = (first) => (base ? `| ${first} | share | µs/call | base µs/call | difference |\n|---|---:|---:|---:|---:|` : `| ${first} | share | µs/call |\n|---|---:|---:|`);
const sorted = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);

for (const r of base ? [main, base] : [main]) {
  console.log(`${r.file}: ${r.calls} calls, ${(r.total / 1e6).toFixed(2)} s non-idle (${(r.total / r.calls).toFixed(1)} µs per call), ${(r.idle / 1e6).toFixed(2)} s idle excluded`);
}
console.log(`\n${head("category (inclusive unless marked self)")}`);
console.log(row("all non-idle samples"));
for (const k of main.cat.keys()) console.log(row(k, "cat", k));
console.log(`\nTop ${top} functions by self time:\n${head("function")}`);
for (const k of sorted(main.self).slice(0, top)) console.log(row(`\`${k}\``, "self", k));
if (base) {
  const growth = new Map([...main.self.keys()].map((k) => [k, perCall(main, "self", k) - perCall(base, "self", k)]));
  console.log(`\nTop ${top} functions by growth of self time per call over the base:\n${head("function")}`);
  for (const k of sorted(growth).slice(0, top)) console.log(row(`\`${k}\``, "self", k));
}
console.log(`\nRuntime functions by inclusive time:\n${head("function")}`);
for (const k of sorted(main.inclusive).slice(0, top)) console.log(row(`\`${k}\``, "inclusive", k));
