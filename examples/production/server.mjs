// The production example: the quickstart's GreetService behind the
// production kit of @grpckit/runtime (limits and keepalive presets, Health,
// reflection, graceful shutdown on SIGTERM/SIGINT, optional TLS/mTLS and a
// plaintext health probe port). Copy this file to start a real service.
//
//   npm run example:production -- --port 50051 [--health-port 8081] [--tls-dir DIR]
//       [--host 0.0.0.0] [--drain-delay-ms 5000] [--grace-ms 10000]
//
// --tls-dir DIR: DIR/tls.crt and DIR/tls.key (the server's identity, as in a
// Kubernetes TLS secret); if DIR/ca.crt exists, clients must present a
// certificate signed by it (mTLS). Files are re-read every minute.
// The pid is written to $TMPDIR/grpckit-example-production-<port>.pid.
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { GrpcError, Status } from "@grpckit/runtime";
import { productionServerOptions, serveProduction, shutdownOnSignals } from "@grpckit/runtime/production";
import { serverCredentialsFromFiles } from "@grpckit/runtime/security";
import { addGreetService } from "./gen/greet/v1/greet_grpckit.js";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "50051" },
    host: { type: "string", default: "127.0.0.1" },
    "health-port": { type: "string" },
    "tls-dir": { type: "string" },
    "drain-delay-ms": { type: "string", default: "0" },
    "grace-ms": { type: "string", default: "10000" },
  },
});

/** Demo only: a request may ask for simulated work (ms, at most 2000) with this header, to show the drain. */
const simulateWorkHeader = "x-simulate-work-ms";
const sleep = (ms, signal) => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
});

/** @type {import("./gen/greet/v1/greet_grpckit.js").GreetServiceServer} */
const handlers = {
  async greet(request, context) {
    if (request.name === "") throw new GrpcError(Status.INVALID_ARGUMENT, "name is required");
    const work = Math.min(Number(context.requestMetadata.get(simulateWorkHeader)[0] ?? 0) || 0, 2000);
    if (work > 0) {
      context.sendHeader(); // tells the caller the server has the call
      await sleep(work, context.signal);
    }
    return { greeting: `Hello, ${request.name}!` };
  },
  // A long-lived stream wraps up when the server drains (context.draining).
  async *count(request, context) {
    for (let n = 1; n <= request.upTo && !context.signal.aborted && !context.draining.aborted; n++) yield { number: n };
  },
  async tally(requests) {
    const names = [];
    for await (const r of requests) names.push(r.name);
    return { names: names.length, all: names.join(", ") };
  },
  async *converse(requests) {
    for await (const r of requests) yield { greeting: `Hi ${r.name}` };
  },
};

function credentialsFrom(dir) {
  if (dir === undefined) return ServerCredentials.createInsecure();
  const ca = join(dir, "ca.crt");
  return serverCredentialsFromFiles({
    cert: join(dir, "tls.crt"),
    key: join(dir, "tls.key"),
    ca: existsSync(ca) ? ca : undefined,
    refreshIntervalMs: 60_000,
  });
}

// 1. Limits and keepalive presets (docs/operations.md), then the services.
const server = new Server(productionServerOptions());
addGreetService(server, handlers);
// 2. The kit: Health for "" and greet.v1.GreetService, reflection (the
//    example enables it to show it; consider turning it off in production).
const kit = serveProduction(server, {
  health: true,
  reflection: true,
  shutdownGraceMs: Number(args["grace-ms"]),
  drainDelayMs: Number(args["drain-delay-ms"]),
  healthPort: args["health-port"] === undefined ? undefined : Number(args["health-port"]),
});
// 3. Listen with explicit credentials.
const port = await kit.listen(`${args.host}:${args.port}`, credentialsFrom(args["tls-dir"]));
const pidFile = join(tmpdir(), `grpckit-example-production-${port}.pid`);
writeFileSync(pidFile, `${process.pid}\n`);
// 4. SIGTERM (Kubernetes) or SIGINT (Ctrl-C): drain, then exit.
shutdownOnSignals(kit, {
  onShutdown(result) {
    rmSync(pidFile, { force: true });
    console.log(`shut down in ${result.durationMs} ms (forced: ${result.forced})`);
    process.exit(0);
  },
});
const probe = kit.healthProbePort === undefined ? "" : `, health probe (plaintext) on ${args.host}:${kit.healthProbePort}`;
console.log(`listening on ${args.host}:${port} (${args["tls-dir"] === undefined ? "plaintext" : "TLS"})${probe}, pid ${process.pid}`);
