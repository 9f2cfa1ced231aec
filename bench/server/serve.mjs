// One echo server of bench/server-overhead.mjs, in a process of its own
// (started with an IPC channel, pinned to one core by the parent).
// Usage: node bench/server/serve.mjs <plain|generated|generated-sync|propagating|nice> <generatedDir> [peerDir] [profileFile]
// "propagating" is the generated server in a process that also holds a
// generated client (never called): deadline propagation is then live, so
// every call enters the AsyncLocalStorage (on Node 20: promise hooks on).
// "generated-sync" is the generated server whose Expand handler is a
// synchronous generator (`function*`, a StreamResponses Iterable) instead
// of an `async function*`.
// Serves bench.v1.EchoService (bench/server/echo.proto) on 127.0.0.1, an
// OS-chosen port, and sends `{ port }` to the parent. Every server does the
// same work per call: decode the request with @bufbuild/protobuf, answer
// Echo with the payload, Expand with `count` messages carrying the payload.
// Parent messages: "cpu" -> replies `{ cpu: { user, system } }` (µs,
// process.cpuUsage(), all threads); "profile-start" -> starts the V8 CPU
// profiler (inspector, 500 µs sampling) when a profileFile was given;
// "stop" -> writes that profile (.cpuprofile JSON), shuts down and exits.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Server, ServerCredentials, credentials } from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";

const [kind, genDir, peerDir, profileFile] = process.argv.slice(2);
const pb = await import(pathToFileURL(join(genDir, "echo_pb.js")).href);
const { EchoRequestSchema: Req, EchoResponseSchema: Res } = pb;

/** A grpc-js style definition with the same serializers the generated code uses. */
function plainDefinition() {
  const ser = (schema) => (value) => {
    const b = toBinary(schema, value);
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  };
  const de = (schema) => (bytes) => fromBinary(schema, bytes);
  const method = (name, responseStream) => ({
    path: `/bench.v1.EchoService/${name}`,
    requestStream: false,
    responseStream,
    requestSerialize: ser(Req),
    requestDeserialize: de(Req),
    responseSerialize: ser(Res),
    responseDeserialize: de(Res),
  });
  return { Echo: method("Echo", false), Expand: method("Expand", true) };
}

/** Callback handlers on a plain grpc-js Server. */
function plainServer() {
  const server = new Server();
  server.addService(plainDefinition(), {
    Echo(call, callback) {
      callback(null, create(Res, { payload: call.request.payload }));
    },
    Expand(call) {
      const { payload, count } = call.request;
      for (let index = 0; index < count; index++) call.write(create(Res, { payload, index }));
      call.end();
    },
  });
  return server;
}

/** Expand's handler in the two styles the generated server accepts: an async generator, or a synchronous one. */
const expandHandlers = {
  async *expand(req) {
    for (let index = 0; index < req.count; index++) yield { payload: req.payload, index };
  },
  *expandSync(req) {
    for (let index = 0; index < req.count; index++) yield { payload: req.payload, index };
  },
};

/**
 * The generated server, default options (validation, telemetry API without
 * SDK, propagation); `withClient`: plus an idle generated client;
 * `syncExpand`: Expand answered by a synchronous generator.
 */
async function generatedServer(withClient, syncExpand) {
  const gen = await import(pathToFileURL(join(genDir, "echo_grpckit.js")).href);
  if (withClient) new gen.EchoServiceClient("127.0.0.1:1", credentials.createInsecure());
  const server = new Server();
  gen.addEchoService(server, {
    async echo(req) {
      return { payload: req.payload };
    },
    expand: syncExpand ? expandHandlers.expandSync : expandHandlers.expand,
  });
  return server;
}

/** nice-grpc (installed under `peerDir`) on the same grpc-js style definition. */
async function niceServer() {
  const require = createRequire(join(peerDir, "package.json"));
  const { createServer } = await import(pathToFileURL(require.resolve("nice-grpc")).href);
  const server = createServer();
  server.add(plainDefinition(), {
    async Echo(req) {
      return create(Res, { payload: req.payload });
    },
    async *Expand(req) {
      for (let index = 0; index < req.count; index++) yield create(Res, { payload: req.payload, index });
    },
  });
  return server;
}

let stop;
if (kind === "nice") {
  const server = await niceServer();
  const port = await server.listen("127.0.0.1:0");
  stop = () => server.forceShutdown();
  process.send({ port });
} else {
  const server = kind === "plain" ? plainServer() : await generatedServer(kind === "propagating", kind === "generated-sync");
  const port = await new Promise((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  stop = () => server.forceShutdown();
  process.send({ port });
}
const session = profileFile ? new Session() : undefined;
const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
async function startProfile() {
  session.connect();
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 500 });
  await post("Profiler.start");
}
process.on("message", async (m) => {
  if (m === "cpu") process.send({ cpu: process.cpuUsage() });
  else if (m === "profile-start" && session) await startProfile();
  else if (m === "stop") {
    stop();
    if (session) writeFileSync(profileFile, JSON.stringify((await post("Profiler.stop")).profile));
    process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0));
