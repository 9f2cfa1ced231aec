// Fault figures of the generated client (docs/resilience.md): success rate of
// idempotent unary calls against a grpc-js server on 127.0.0.1 that fails a
// seeded, independent share of executions with UNAVAILABLE, with the default
// client options and with a retry throttling config (maxTokens 10, tokenRatio 0.1).
// Usage: npm run build && node bench/fault-figures.mjs [callsPerCase]
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Server, ServerCredentials, credentials } from "@grpc/grpc-js";

const calls = Number(process.argv[2] ?? 1000);
const root = new URL("..", import.meta.url).pathname;
const bin = (n) => join(root, "node_modules", ".bin", n);
const out = mkdtempSync(join(root, "tmp", "bench-"));
execFileSync(bin("protoc"), [
  `-I${join(root, "testdata", "fixtures")}`,
  `--plugin=protoc-gen-es=${bin("protoc-gen-es")}`,
  `--plugin=protoc-gen-grpckit=${join(root, "bin", "protoc-gen-grpckit")}`,
  `--es_out=${out}`, "--es_opt=target=js,import_extension=js",
  `--grpckit_out=${out}`, "--grpckit_opt=target=js,import_extension=js,telemetry=false,validate=false",
  "resilience/v1/faults.proto",
]);
const gen = await import(join(out, "resilience/v1/faults_grpckit.js"));
const { GrpcError, Status } = await import("@grpckit/runtime");

// independent failures: execution n of call id fails with probability `rate` (a hash, reproducible)
function fails(seed, rate, id, n) {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const ch of `${id}#${n}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39) >>> 0;
  return ((h ^ (h >>> 15)) >>> 0) / 4294967296 < rate;
}

async function runCase(rate, serviceConfig) {
  const executions = new Map();
  const server = new Server();
  gen.addPartialFaultService(server, {
    get: async (req) => {
      const n = (executions.get(req.id) ?? 0) + 1;
      executions.set(req.id, n);
      if (fails(11, rate, req.id, n)) throw new GrpcError(Status.UNAVAILABLE, "injected");
      return { id: req.id };
    },
  });
  const port = await new Promise((res, rej) => server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  const client = new gen.FaultServiceClient(`127.0.0.1:${port}`, credentials.createInsecure(), serviceConfig ? { serviceConfig } : {});
  let ok = 0;
  for (let b = 0; b < calls; b += 100) {
    const r = await Promise.allSettled(Array.from({ length: Math.min(100, calls - b) }, (_, i) => client.get({ id: `${rate}-${b + i}` })));
    ok += r.filter((x) => x.status === "fulfilled").length;
  }
  const total = [...executions.values()].reduce((a, b) => a + b, 0);
  client.close();
  await new Promise((r) => server.tryShutdown(r));
  return { success: ok / calls, perCall: total / calls };
}

const throttled = { retryThrottling: { maxTokens: 10, tokenRatio: 0.1 } };
console.log(`node ${process.version}, ${calls} idempotent unary calls per case, 100 concurrent, 5 attempts (default policy)`);
console.log("| UNAVAILABLE rate | defaults: success | executions/call | throttling (10, 0.1): success | executions/call | A6 ceiling 1-p^5 |");
console.log("|---|---|---|---|---|---|");
for (const rate of [0.1, 0.3, 0.5]) {
  const d = await runCase(rate, undefined);
  const t = await runCase(rate, throttled);
  const pct = (x) => `${(x * 100).toFixed(2)}%`;
  console.log(`| ${rate * 100}% | ${pct(d.success)} | ${d.perCall.toFixed(2)} | ${pct(t.success)} | ${t.perCall.toFixed(2)} | ${pct(1 - rate ** 5)} |`);
}
rmSync(out, { recursive: true, force: true });
