// Figures for @grpckit/runtime/production health and reflection, on the built package
// (run `npm run build` first), over loopback with raw grpc-js clients (hand-encoded bytes):
// the cost of addHealthService / addReflectionService (loading the peers), Check latency
// (500 calls, one at a time), drain() with 200 open Watch streams until every one ended
// (status OK), and the first list_services (the index is built then) vs the next one.
//
// Usage: node bench/health-reflection.mjs   (prints one JSON line; a few seconds)
import * as grpc from "@grpc/grpc-js";
import { addHealthService, addReflectionService } from "@grpckit/runtime/production";
const server = new grpc.Server();
let t = performance.now();
const reporter = addHealthService(server);
const tHealth = performance.now() - t;
t = performance.now();
addReflectionService(server);
const tRefl = performance.now() - t;
const port = await new Promise((ok, ko) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? ko(e) : ok(p))));
const client = new grpc.Client("127.0.0.1:" + port, grpc.credentials.createInsecure());
const check = () => new Promise((ok, ko) => client.makeUnaryRequest("/grpc.health.v1.Health/Check", (b) => b, (b) => b, Buffer.alloc(0), (e, r) => (e ? ko(e) : ok(r))));
await check();
const lat = [];
for (let i = 0; i < 500; i++) { const s = performance.now(); await check(); lat.push(performance.now() - s); }
lat.sort((a, b) => a - b);
const N = 200;
let ended = 0, msgs = 0; let first;
const allEnded = new Promise((ok) => {
  for (let i = 0; i < N; i++) {
    const call = client.makeServerStreamRequest("/grpc.health.v1.Health/Watch", (b) => b, (b) => b, Buffer.alloc(0));
    call.on("data", () => msgs++);
    call.on("status", (s) => { if (s.code === 0 && ++ended === N) ok(); });
    call.on("error", () => {});
  }
});
while (msgs < N) await new Promise((r) => setTimeout(r, 5));
t = performance.now();
reporter.drain();
await allEnded;
const tDrain = performance.now() - t;
const list = () => new Promise((ok, ko) => {
  const call = client.makeBidiStreamRequest("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", (b) => b, (b) => b);
  call.on("data", () => {}); call.on("error", ko); call.on("status", () => ok());
  call.write(Buffer.from([0x3a, 0x01, 0x2a])); call.end();
});
t = performance.now(); await list(); const tFirst = performance.now() - t;
t = performance.now(); await list(); const tSecond = performance.now() - t;
console.log(JSON.stringify({ addHealthServiceMs: tHealth.toFixed(1), addReflectionServiceMs: tRefl.toFixed(1), checkP50Ms: lat[250].toFixed(3), checkP99Ms: lat[495].toFixed(3), drainWatchers: N, drainToAllEndedMs: tDrain.toFixed(1), reflectionFirstListMs: tFirst.toFixed(1), reflectionNextListMs: tSecond.toFixed(1) }));
client.close(); server.forceShutdown();
