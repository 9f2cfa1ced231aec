/**
 * The interop test server: grpc.testing.TestService on the generated server
 * skeleton, plaintext.
 *
 * Usage: npm run interop:server -- [--port 50051] [--host 127.0.0.1]
 * (`--host 0.0.0.0` to accept connections from other machines or containers).
 * Stops on SIGINT / SIGTERM, letting calls in flight finish.
 */
import { parseArgs } from "node:util";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { addInteropTestService } from "./test-service.js";

const { values } = parseArgs({
  options: { port: { type: "string", default: "50051" }, host: { type: "string", default: "127.0.0.1" }, use_tls: { type: "string", default: "false" } },
});
if (values.use_tls !== "false") {
  console.error("interop server: --use_tls is not supported; this server is plaintext only");
  process.exit(2);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`interop server: --port must be a port number, got ${JSON.stringify(values.port)}`);
  process.exit(2);
}

const server = new Server();
addInteropTestService(server);
const host = values.host.includes(":") ? `[${values.host}]` : values.host;
server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, bound) => {
  if (err) {
    console.error(`interop server: cannot listen on ${host}:${port}: ${err.message}`);
    process.exit(1);
  }
  console.log(`interop server listening on ${host}:${bound}`);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => server.tryShutdown(() => process.exit(0)));
}
