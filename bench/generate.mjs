// Benchmark: generation speed of protoc-gen-grpckit vs protoc-gen-es on the
// same CodeGeneratorRequest bytes, side by side in one run (issue 9).
//
// Inputs (the protos of npm `google-proto-files`):
//   medium  - google/cloud/{aiplatform,securitycenter,discoveryengine}/v1/*.proto
//   compute - google/cloud/compute/v1/compute.proto
// Each input's request is built once with the real protoc (npm `protoc`):
// protoc runs bench/generate/capture-plugin.mjs, which saves the request
// exactly as protoc sends it to a plugin (imports, source info, source-retention
// options). Then, for each target (`target=ts`, and `target=js+dts`, the
// default of both plugins), the request's parameter is set and the same bytes
// are fed to each plugin's stdin: bin/protoc-gen-grpckit (ours) and
// node_modules/.bin/protoc-gen-es, each in a fresh `node` process, --runs times,
// alternating which goes first. Per process: wall time (measured here, spawn
// to exit), CPU time (user + system of the process, start-up included) and max
// RSS (both from getrusage, via bench/generate/usage.cjs preloaded with
// --require). Every response is decoded: no error, at least one file, or the
// bench fails (it cannot pass on empty output).
//
// Usage: npm run bench:generate [-- --runs N --compute-es-runs M --inputs medium,compute --targets ts,js+dts
//   --variant NAME=BIN ...] (--variant: another build of ours, e.g. a copy of bin/ and dist/ from
//   before a change, measured side by side)
// (defaults: 5 runs, protoc-gen-es once on compute, where one run takes it minutes).
// Prints a markdown table of medians, the 1-minute load average seen by the
// row's runs (min-max) and the ratios ours / protoc-gen-es.
// Goals: medium <= 0.6x protoc-gen-es's time with no more memory, both targets;
// compute within 5 s, both targets.
import { spawn, execFileSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema, CodeGeneratorResponseSchema } from "@bufbuild/protobuf/wkt";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const here = join(root, "bench", "generate");
const work = join(root, "tmp", "bench-generate");
const googleProtos = join(root, "node_modules", "google-proto-files");
const protocInclude = join(root, "node_modules", "protoc", "include");
const version = (pkg) => JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")).version;

const rawArg = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
};
const runs = Number(rawArg("runs") ?? 5);
/** protoc-gen-es takes minutes per run on compute (quadratic in the file's size), so it runs fewer times there; 0 skips it. */
const computeEsRuns = Number(rawArg("compute-es-runs") ?? 1);
const inputNames = (rawArg("inputs") ?? "medium,compute").split(",");
const targets = (rawArg("targets") ?? "ts,js+dts").split(",");

/** The input sets: files to generate, relative to google-proto-files. */
const inputs = {
  medium: ["aiplatform", "securitycenter", "discoveryengine"].flatMap((api) => protosIn(`google/cloud/${api}/v1`)),
  compute: ["google/cloud/compute/v1/compute.proto"],
};

/** The plugins: the script node runs, as installed; `--variant NAME=BIN` (repeatable) adds another build of ours. */
const plugins = {
  grpckit: join(root, "bin", "protoc-gen-grpckit"),
  es: join(root, "node_modules", "@bufbuild", "protoc-gen-es", "bin", "protoc-gen-es"),
};
const variants = process.argv.flatMap((a, i) => (process.argv[i - 1] === "--variant" ? [a.split("=")] : []));
for (const [variant, path] of variants) plugins[variant] = path;
const ours = ["grpckit", ...variants.map(([v]) => v)];

function protosIn(dir) {
  return readdirSync(join(googleProtos, dir))
    .filter((n) => n.endsWith(".proto"))
    .sort()
    .map((n) => `${dir}/${n}`);
}

/** The CodeGeneratorRequest protoc sends a plugin for `files`, captured once. */
function captureRequest(name, files) {
  const out = join(work, `${name}.request.binpb`);
  execFileSync(
    join(root, "node_modules", ".bin", "protoc"),
    [
      `-I${googleProtos}`,
      `-I${protocInclude}`,
      `--plugin=protoc-gen-capture=${join(here, "capture-plugin.mjs")}`,
      `--capture_out=${work}`,
      ...files,
    ],
    { env: { ...process.env, GENBENCH_CAPTURE: out }, stdio: ["ignore", "ignore", "pipe"] }, // stderr: "unused import" warnings
  );
  return fromBinary(CodeGeneratorRequestSchema, readFileSync(out));
}

/** One plugin process on `requestPath`: wall ms, CPU ms, max RSS MB, and the response's file count and size. */
function runOnce(plugin, requestPath, responsePath) {
  const usagePath = `${responsePath}.usage.json`;
  rmSync(usagePath, { force: true });
  const stdin = openSync(requestPath, "r");
  const stdout = openSync(responsePath, "w");
  const load = loadavg()[0];
  const start = performance.now();
  const child = spawn(process.execPath, ["--require", join(here, "usage.cjs"), plugins[plugin]], {
    stdio: [stdin, stdout, "pipe"],
    env: { ...process.env, GENBENCH_USAGE: usagePath },
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      const wallMs = performance.now() - start;
      closeSync(stdin);
      closeSync(stdout);
      if (code !== 0) return reject(new Error(`${plugin} exited with ${code}:\n${stderr}`));
      const usage = JSON.parse(readFileSync(usagePath, "utf8"));
      const bytes = readFileSync(responsePath);
      const response = fromBinary(CodeGeneratorResponseSchema, bytes);
      if (response.error) return reject(new Error(`${plugin} returned an error: ${response.error}`));
      if (response.file.length === 0) return reject(new Error(`${plugin} generated no files`));
      resolve({
        wallMs,
        cpuMs: (usage.userUs + usage.systemUs) / 1000,
        rssMB: usage.maxRssKiB / 1024,
        files: response.file.length,
        outMB: bytes.length / 1024 / 1024,
        load,
      });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x, digits = 0) => x.toFixed(digits);

async function main() {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const node = process.version;
  const started = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const loadBefore = loadavg().map((l) => l.toFixed(2)).join(", ");
  console.log(`Node ${node}; protoc ${version("protoc")}, protoc-gen-es ${version("@bufbuild/protoc-gen-es")}, google-proto-files ${version("google-proto-files")}`);
  console.log(`${started}; ${runs} runs per plugin and target, alternating order; load average before: ${loadBefore}`);
  const rows = [];
  for (const name of inputNames) {
    const files = inputs[name];
    if (files === undefined) throw new Error(`unknown input ${name}; known: ${Object.keys(inputs).join(", ")}`);
    const request = captureRequest(name, files);
    const requestMB = toBinary(CodeGeneratorRequestSchema, request).length / 1024 / 1024;
    console.log(`${name}: ${request.fileToGenerate.length} files to generate, ${request.protoFile.length} in the request (${requestMB.toFixed(1)} MB)`);
    for (const target of targets) {
      request.parameter = `target=${target}`;
      const requestPath = join(work, `${name}.${target}.request.binpb`);
      writeFileSync(requestPath, toBinary(CodeGeneratorRequestSchema, request));
      const results = Object.fromEntries(Object.keys(plugins).map((p) => [p, []]));
      const esRuns = name === "compute" ? Math.min(runs, computeEsRuns) : runs;
      for (let r = 0; r < runs; r++) {
        const all = r < esRuns ? [...ours, "es"] : ours;
        const order = r % 2 === 0 ? all : [...all].reverse();
        for (const plugin of order) {
          const res = await runOnce(plugin, requestPath, join(work, `${name}.${target}.${plugin}.response.binpb`));
          results[plugin].push(res);
          process.stderr.write(`  ${name} target=${target} ${plugin} run ${r + 1}: ${fmt(res.wallMs)} ms wall, ${fmt(res.cpuMs)} ms CPU, ${fmt(res.rssMB)} MB, load ${res.load.toFixed(2)}\n`);
        }
      }
      rows.push({ name, target, files: request.fileToGenerate.length, results });
    }
  }
  printTable(rows);
  console.log(`\nload average after: ${loadavg().map((l) => l.toFixed(2)).join(", ")}`);
}

function printTable(rows) {
  const summary = (rs) => ({
    wall: median(rs.map((r) => r.wallMs)),
    cpu: median(rs.map((r) => r.cpuMs)),
    rss: median(rs.map((r) => r.rssMB)),
    files: rs[0].files,
    out: rs[0].outMB,
  });
  console.log("");
  console.log("| input | target | plugin | files out | wall ms | CPU ms | max RSS MB | load (1 min) | wall ours/es | CPU ours/es | RSS ours/es |");
  console.log("|---|---|---|---:|---:|---:|---:|---|---:|---:|---:|");
  for (const { name, target, results } of rows) {
    const line = (label, rs, ratios) => {
      const s = summary(rs);
      const loads = rs.map((r) => r.load);
      const load = `${Math.min(...loads).toFixed(2)}-${Math.max(...loads).toFixed(2)}`;
      return `| ${name} | ${target} | ${label} (${rs.length} runs) | ${s.files} | ${fmt(s.wall)} | ${fmt(s.cpu)} | ${fmt(s.rss)} | ${load} | ${ratios.join(" | ")} |`;
    };
    const ratio = (p, key) => (results.es.length === 0 ? "" : (summary(results[p])[key] / summary(results.es)[key]).toFixed(3));
    if (results.es.length > 0) console.log(line("protoc-gen-es", results.es, ["", "", ""]));
    for (const p of ours) console.log(line(p === "grpckit" ? "protoc-gen-grpckit" : p, results[p], [ratio(p, "wall"), ratio(p, "cpu"), ratio(p, "rss")]));
  }
}

await main();
