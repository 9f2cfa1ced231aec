// Generated client vs a plain grpc-js client on unary calls without faults,
// measured side by side in one run against the same server on 127.0.0.1.
// Usage: npm run build && node bench/client-overhead.mjs [rounds] [callsPerRound]
// Prints throughput (calls/s at concurrency 32) and p50/p99 latency
// (sequential calls) for both, and the ratios generated / plain.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Client, Server, ServerCredentials, credentials } from "@grpc/grpc-js";
import { toBinary, fromBinary, create } from "@bufbuild/protobuf";

const rounds = Number(process.argv[2] ?? 5);
const perRound = Number(process.argv[3] ?? 2000);
const root = new URL("..", import.meta.url).pathname;
const bin = (n) => join(root, "node_modules", ".bin", n);

// Generate the echo fixture as JavaScript inside the package (so the generated
// code's `@grpckit/runtime` import resolves to this package's dist).
const out = mkdtempSync(join(root, "tmp", "bench-"));
execFileSync(bin("protoc"), [
  `-I${join(root, "testdata", "fixtures")}`,
  `--plugin=protoc-gen-es=${bin("protoc-gen-es")}`,
  `--plugin=protoc-gen-grpckit=${join(root, "bin", "protoc-gen-grpckit")}`,
  `--es_out=${out}`, "--es_opt=target=js,import_extension=js",
  `--grpckit_out=${out}`, "--grpckit_opt=target=js,import_extension=js,telemetry=false,validate=false",
  "demo/v1/echo.proto",
]);
const pb = await import(join(out, "demo/v1/echo_pb.js"));
const gen = await import(join(out, "demo/v1/echo_grpckit.js"));

const server = new Server();
gen.addPartialEchoService(server, { echo: async (req) => ({ text: req.text }) });
const port = await new Promise((res, rej) => server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
const address = `127.0.0.1:${port}`;

const generated = new gen.EchoServiceClient(address, credentials.createInsecure());
const plain = new Client(address, credentials.createInsecure());
const ser = (m) => Buffer.from(toBinary(pb.EchoRequestSchema, m));
const de = (b) => fromBinary(pb.EchoResponseSchema, b);
const plainEcho = (req) =>
  new Promise((res, rej) => plain.makeUnaryRequest("/demo.v1.EchoService/Echo", ser, de, create(pb.EchoRequestSchema, req), (e, r) => (e ? rej(e) : res(r))));
const generatedEcho = (req) => generated.echo(req);

async function latencies(call, n) {
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await call({ text: "hello" });
    t[i] = performance.now() - s;
  }
  return t;
}
async function throughput(call, n, concurrency = 32) {
  let next = 0;
  const s = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < n) await call({ text: "hello" });
  }));
  return n / ((performance.now() - s) / 1000);
}
const pct = (arr, p) => arr[Math.min(arr.length - 1, Math.floor((p / 100) * arr.length))];

await latencies(plainEcho, 500);
await latencies(generatedEcho, 500);
const lat = { plain: [], generated: [] };
const tput = { plain: [], generated: [] };
for (let r = 0; r < rounds; r++) {
  // alternate the order each round so drift hits both sides equally
  const order = r % 2 === 0 ? ["plain", "generated"] : ["generated", "plain"];
  for (const side of order) {
    const call = side === "plain" ? plainEcho : generatedEcho;
    lat[side].push(...(await latencies(call, perRound)));
    tput[side].push(await throughput(call, perRound * 2));
  }
}
const summary = (side) => {
  const sorted = Float64Array.from(lat[side]).sort();
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { callsPerSec: median(tput[side]), p50ms: pct(sorted, 50), p99ms: pct(sorted, 99) };
};
const p = summary("plain");
const g = summary("generated");
const row = (name, key, fmt) => `| ${name} | ${fmt(p[key])} | ${fmt(g[key])} | ${(g[key] / p[key]).toFixed(3)} |`;
console.log(`node ${process.version}, ${rounds} rounds x ${perRound} sequential calls + ${perRound * 2} calls at concurrency 32, per client`);
console.log("| metric | plain grpc-js | generated client | ratio generated/plain |");
console.log("|---|---|---|---|");
console.log(row("throughput (calls/s, median of rounds)", "callsPerSec", (x) => x.toFixed(0)));
console.log(row("latency p50 (ms)", "p50ms", (x) => x.toFixed(3)));
console.log(row("latency p99 (ms)", "p99ms", (x) => x.toFixed(3)));
generated.close();
plain.close();
server.forceShutdown();
rmSync(out, { recursive: true, force: true });
