// Both builds of @grpckit/runtime in one process, resolved by package name the
// way Node resolves them (ESM: import(), "import" condition -> dist/esm; CJS:
// createRequire, "require" condition -> dist/cjs). Prints one JSON line with
// what the test asserts. Usage: node dual-package-child.mjs
import { createRequire } from "node:module";
import { Server, ServerCredentials, credentials } from "@grpc/grpc-js";
import { create, createFileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, file_google_protobuf_wrappers } from "@bufbuild/protobuf/wkt";

const require = createRequire(import.meta.url);
const esm = await import("@grpckit/runtime");
const cjs = require("@grpckit/runtime");
const paths = { esm: import.meta.resolve("@grpckit/runtime"), cjs: require.resolve("@grpckit/runtime") };

const file = create(FileDescriptorProtoSchema, {
  name: "dual/v1/dual.proto",
  package: "dual.v1",
  dependency: ["google/protobuf/wrappers.proto"],
  syntax: "proto3",
  service: [{ name: "DualService", method: [{ name: "Call", inputType: ".google.protobuf.StringValue", outputType: ".google.protobuf.StringValue" }] }],
});
const registry = createFileRegistry(file, (name) => (name === "google/protobuf/wrappers.proto" ? file_google_protobuf_wrappers : undefined));
const service = registry.getService("dual.v1.DualService");
const method = service.methods[0];

async function serve(runtime, impl) {
  const server = new Server();
  runtime.addServiceImplementation(server, service, impl, { onInternalError: () => {} });
  const port = await new Promise((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, address: `127.0.0.1:${port}` };
}

const settle = (promise) => promise.then((value) => ({ value: value.value }), (e) => ({ code: e.code, message: e.rawMessage, same: esm.isGrpcError(e) && cjs.isGrpcError(e) }));
const out = { paths, distinctClasses: esm.GrpcError !== cjs.GrpcError };

// 1. A handler registered with one copy throws a GrpcError made by the other.
const servers = [];
for (const [serverCopy, errorCopy] of [["cjs", "esm"], ["esm", "cjs"]]) {
  const rt = { esm, cjs };
  const s = await serve(rt[serverCopy], {
    call() {
      throw new rt[errorCopy].GrpcError(rt[errorCopy].Status.NOT_FOUND, `made by ${errorCopy}`);
    },
  });
  servers.push(s.server);
  const client = new esm.ClientTransport(s.address, credentials.createInsecure());
  out[`${serverCopy}Server_${errorCopy}Error`] = await settle(client.unary(method, { value: "x" }));
  client.close();
}

// 2. instanceof / isGrpcError across copies; subclasses keep the prototype-chain test.
class AppError extends esm.GrpcError {}
out.instanceofAcross = [new cjs.GrpcError(5, "x") instanceof esm.GrpcError, new esm.GrpcError(5, "x") instanceof cjs.GrpcError, cjs.GrpcError.isGrpcError(new esm.GrpcError(5, "x"))];
out.subclass = [new AppError(5, "x") instanceof AppError, new esm.GrpcError(5, "x") instanceof AppError, new Error("x") instanceof esm.GrpcError];

// 3. Deadline and cancellation propagation across copies: the upstream handler (CJS copy) calls
// downstream with a client of the ESM copy and no deadline of its own.
const downstream = await serve(esm, {
  call(_req, ctx) {
    return { value: String(ctx.deadline ?? "none") };
  },
});
const downClient = new esm.ClientTransport(downstream.address, credentials.createInsecure());
let upstreamDeadline;
const upstream = await serve(cjs, {
  async call(_req, ctx) {
    upstreamDeadline = ctx.deadline;
    const seen = await downClient.unary(method, { value: "down" });
    return { value: `${upstreamDeadline}/${seen.value}` };
  },
});
const upClient = new cjs.ClientTransport(upstream.address, credentials.createInsecure());
const reply = await upClient.unary(method, { value: "up" }, { timeoutMs: 30_000 });
const [up, down] = reply.value.split("/");
out.propagation = { upstream: Number(up), downstream: down === "none" ? null : Number(down) };

for (const s of [...servers, downstream.server, upstream.server]) s.forceShutdown();
downClient.close();
upClient.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
