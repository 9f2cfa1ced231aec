// Where the instructions of two callgrind dumps differ, by function, with
// JIT-compiled JavaScript named: callgrind sees V8's generated code only as
// addresses (`fn=0x...`), which the server's perf map (node
// --perf-basic-prof: /tmp/perf-<pid>.map, lines "start size name" in hex)
// turns into `name file:line:column`. Made for the dumps that
// `node bench/server-instructions.mjs --perf-map` keeps (one per measured
// run: DIR/callgrind-<server>.<pid>.<n>).
//
// Usage: node bench/server/callgrind-functions.mjs BASE.dump BASE.map OTHER.dump OTHER.map
//          [--calls 3000] [--top 40] [--callers Builtins_KeyedLoadIC_Megamorphic,...]
// Prints the total instructions per call of each dump; the functions whose
// self cost per call grew most and shrank most from BASE to OTHER; and, for
// each `--callers` function (default: V8's megamorphic property-access
// builtins), which functions called it and at what inclusive cost per call.
// Names are approximate where V8 moved or freed code during the run (a map
// line is only ever added); inlined functions count as their caller;
// recursion levels (callgrind's `'2` suffixes) are merged.
import { readFileSync } from "node:fs";
import { option } from "./args.mjs";

const argv = process.argv.slice(2);
const opt = (name, def) => option(argv, name, def);
const files = argv.filter((a, i) => !a.startsWith("--") && !argv[i - 1]?.startsWith("--"));
if (files.length !== 4) {
  console.error("usage: node bench/server/callgrind-functions.mjs BASE.dump BASE.map OTHER.dump OTHER.map [--calls N] [--top N] [--callers f,g]");
  process.exit(2);
}
const calls = Number(opt("calls", 3000));
const top = Number(opt("top", 40));
const callerTargets = opt("callers", "Builtins_KeyedLoadIC_Megamorphic,Builtins_KeyedLoadICTrampoline_Megamorphic,Builtins_KeyedHasIC_Megamorphic,Builtins_ProxyGetProperty").split(",");

/** A perf map as sorted starts plus `start -> { size, name }` (the last line for a start wins). */
function readPerfMap(file) {
  const entries = new Map();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (m) entries.set(parseInt(m[1], 16), { size: parseInt(m[2], 16), name: m[3].replace(/^(JS|Function|LazyCompile):[*~^+]?/, "") });
  }
  return { starts: [...entries.keys()].sort((a, b) => a - b), entries };
}

/** The function name of a callgrind `fn=` value: an address inside mapped JIT code gets that code's name. */
function namer(map) {
  const cache = new Map();
  return (fn) => {
    let name = cache.get(fn);
    if (name !== undefined) return name;
    name = fn.replace(/'\d+$/, ""); // callgrind's recursion depth suffix
    const m = /^0x([0-9a-f]+)$/.exec(name);
    if (m) {
      const address = parseInt(m[1], 16);
      let lo = 0;
      let hi = map.starts.length - 1;
      let found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (map.starts[mid] <= address) (found = mid), (lo = mid + 1);
        else hi = mid - 1;
      }
      const start = map.starts[found];
      const entry = found >= 0 ? map.entries.get(start) : undefined;
      name = entry && address < start + entry.size ? entry.name.trim() : "(JIT code not in the map)";
    }
    cache.set(fn, name);
    return name;
  };
}

/** Self cost by function and inclusive cost by callee -> caller, from one uncompressed callgrind dump. */
function readDump(file, name) {
  const self = new Map();
  const callers = new Map();
  const add = (m, key, c) => m.set(key, (m.get(key) ?? 0) + c);
  let fn;
  let cfn;
  let inCall = false;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.startsWith("fn=")) (fn = name(line.slice(3).trim())), (inCall = false);
    else if (line.startsWith("cfn=")) cfn = name(line.slice(4).trim());
    else if (line.startsWith("calls=")) inCall = true;
    else if (fn !== undefined && /^[0-9+*-]/.test(line)) {
      const cost = Number(line.split(/\s+/)[1] ?? 0);
      if (inCall) {
        if (!callers.has(cfn)) callers.set(cfn, new Map());
        add(callers.get(cfn), fn, cost);
        inCall = false;
      } else add(self, fn, cost);
    }
  }
  return { self, callers };
}

const [base, other] = [0, 2].map((i) => readDump(files[i], namer(readPerfMap(files[i + 1]))));
const per = (x) => (x / calls).toFixed(0).padStart(9);
const sum = (m) => [...m.values()].reduce((a, b) => a + b, 0);
console.log(`instructions per call (${calls} calls): base ${per(sum(base.self))}, other ${per(sum(other.self))}`);

function printDiff(title, a, b, n) {
  const keys = [...new Set([...a.keys(), ...b.keys()])];
  const rows = keys.map((key) => ({ key, a: a.get(key) ?? 0, b: b.get(key) ?? 0 })).sort((x, y) => y.b - y.a - (x.b - x.a));
  console.log(`\n${title}\n     base     other      diff  function`);
  const show = (r) => console.log(`${per(r.a)} ${per(r.b)} ${per(r.b - r.a)}  ${r.key.slice(0, 140)}`);
  rows.slice(0, n).forEach(show);
  if (rows.length > n) {
    console.log("   ...");
    rows.slice(Math.max(n, rows.length - Math.ceil(n / 3))).forEach(show);
  }
}

printDiff("self cost per call, by function (largest growth first; the largest drops last)", base.self, other.self, top);
for (const target of callerTargets) {
  printDiff(`callers of ${target} (inclusive cost per call)`, base.callers.get(target) ?? new Map(), other.callers.get(target) ?? new Map(), 12);
}
