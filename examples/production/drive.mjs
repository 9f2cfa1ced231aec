// Drives the production example server: health, the services listed by
// reflection, one call of each method kind, then SIGTERM to the server while
// calls are in flight, and how many of them were lost.
//
//   npm run example:production:drive -- --port 50051 [--host 127.0.0.1] [--tls-dir DIR]
//       [--pid N] [--calls 50] [--work-ms 500]
//
// --tls-dir DIR: DIR/ca.crt verifies the server; DIR/client.crt and
// DIR/client.key, if present, are the client's certificate (mTLS).
// --pid: the server's pid; default: read from the server's pid file.
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Metadata, credentials } from "@grpc/grpc-js";
import { channelCredentialsFromFiles } from "@grpckit/runtime/security";
import { GreetServiceClient } from "./gen/greet/v1/greet_grpckit.js";
import { HealthClient } from "./gen/grpc/health/v1/health_grpckit.js";
import { HealthCheckResponse_ServingStatus as ServingStatus } from "./gen/grpc/health/v1/health_pb.js";
import { ServerReflectionClient } from "./gen/grpc/reflection/v1/reflection_grpckit.js";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "50051" },
    host: { type: "string", default: "127.0.0.1" },
    "tls-dir": { type: "string" },
    pid: { type: "string" },
    calls: { type: "string", default: "50" },
    "work-ms": { type: "string", default: "500" },
  },
});
const target = `${args.host}:${args.port}`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function channelCredentials(dir) {
  if (dir === undefined) return credentials.createInsecure();
  const cert = join(dir, "client.crt");
  const mtls = existsSync(cert);
  return channelCredentialsFromFiles({ ca: join(dir, "ca.crt"), cert: mtls ? cert : undefined, key: mtls ? join(dir, "client.key") : undefined });
}
const creds = channelCredentials(args["tls-dir"]);
const greet = new GreetServiceClient(target, creds);

// 1. Health, as Kubernetes' gRPC probe asks it (unary Check with a service name).
const health = new HealthClient(target, creds);
for (const service of ["", "greet.v1.GreetService"]) {
  const { status } = await health.check({ service }, { timeoutMs: 5000 });
  console.log(`health           ${JSON.stringify(service)} -> ${ServingStatus[status]}`);
}
health.close();

// 2. Reflection v1: the services the server lists.
const reflection = new ServerReflectionClient(target, creds);
for await (const r of reflection.serverReflectionInfo([{ messageRequest: { case: "listServices", value: "" } }], { timeoutMs: 5000 })) {
  if (r.messageResponse.case === "listServicesResponse") {
    console.log(`reflection       services -> ${r.messageResponse.value.service.map((s) => s.name).join(", ")}`);
  }
}
reflection.close();

// 3. One call of each kind.
console.log(`unary            greet -> ${(await greet.greet({ name: "Ada" }, { timeoutMs: 5000 })).greeting}`);
const numbers = [];
for await (const r of greet.count({ upTo: 3 }, { timeoutMs: 5000 })) numbers.push(r.number);
console.log(`server streaming count -> ${numbers.join(" ")}`);
const tally = await greet.tally([{ name: "Ada" }, { name: "Grace" }], { timeoutMs: 5000 });
console.log(`client streaming tally -> ${tally.names} names: ${tally.all}`);
const replies = [];
for await (const r of greet.converse([{ name: "Ada" }, { name: "Grace" }], { timeoutMs: 5000 })) replies.push(r.greeting);
console.log(`bidi streaming   converse -> ${replies.join(" | ")}`);

// 4. SIGTERM under load: `calls` greet calls the server holds for `work-ms`
//    each; once the server has all of them (their response headers arrived),
//    SIGTERM. A lost call is one the server had accepted that did not succeed.
const pid = Number(args.pid ?? readFileSync(join(tmpdir(), `grpckit-example-production-${args.port}.pid`), "utf8").trim());
const n = Number(args.calls);
const work = new Metadata();
work.set("x-simulate-work-ms", args["work-ms"]);
let accepted = 0;
const inFlight = Array.from({ length: n }, (_, i) =>
  greet.greet({ name: `load-${i}` }, { metadata: work, timeoutMs: 30_000, onHeader: () => accepted++ }).then(() => "ok", (e) => e.codeName),
);
const end = Date.now() + 20_000;
while (accepted < n && Date.now() < end) await sleep(5);
process.kill(pid, "SIGTERM");
console.log(`drain            SIGTERM sent to pid ${pid} with ${accepted} of ${n} calls in flight on the server`);
await sleep(200); // the server stops accepting: later calls are refused, so clients go elsewhere
// A client that does not retry shows the refusal itself. (Greet is NO_SIDE_EFFECTS, so the default
// client retries UNAVAILABLE, waiting for a ready backend within its deadline: with this one
// server gone, that ends DEADLINE_EXCEEDED; behind a Kubernetes Service it reaches another pod.)
const noRetries = new GreetServiceClient(target, creds, {
  serviceConfig: { methodConfig: [{ name: [{ service: "greet.v1.GreetService" }], retryPolicy: { maxAttempts: 1, initialBackoff: "0.1s", maxBackoff: "1s", backoffMultiplier: 2, retryableStatusCodes: ["UNAVAILABLE"] } }] },
});
const late = await noRetries.greet({ name: "late" }, { timeoutMs: 5000 }).then(() => "ok", (e) => e.codeName);
noRetries.close();
const outcomes = await Promise.all(inFlight);
const completed = outcomes.filter((o) => o === "ok").length;
console.log(`drain            ${completed} completed, ${n - completed} lost; a call after SIGTERM -> ${late}`);
greet.close();

const exitBy = Date.now() + 20_000;
const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
while (alive() && Date.now() < exitBy) await sleep(20);
console.log(`drain            server process ${alive() ? "still running" : "exited"}`);
