// A plain grpc-js server in its own process, for the kill-and-restart tests:
// serves resilience.v1.FaultService Get and Pay (and nothing else) by echoing
// the request bytes (Req.id and Res.id are both field 1), prints "port N" once
// bound, then "exec <method> <id>" for every execution.
// Usage: node restart-server.mjs <port|0>
import { Server, ServerCredentials } from "@grpc/grpc-js";

const id = (buf) => {
  // field 1, wire type 2: tag 0x0a, varint length (< 128 here), then the bytes
  if (buf[0] !== 0x0a) return "";
  return buf.subarray(2, 2 + buf[1]).toString("utf8");
};
const bytes = { requestSerialize: (b) => b, requestDeserialize: (b) => b, responseSerialize: (b) => b, responseDeserialize: (b) => b };
const method = (name) => ({ path: `/resilience.v1.FaultService/${name}`, requestStream: false, responseStream: false, ...bytes });
const server = new Server();
const handle = (name) => (call, callback) => {
  process.stdout.write(`exec ${name} ${id(call.request)}\n`);
  callback(null, call.request);
};
server.addService({ Get: method("Get"), Pay: method("Pay") }, { Get: handle("get"), Pay: handle("pay") });
server.bindAsync(`127.0.0.1:${process.argv[2] ?? 0}`, ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`port ${port}\n`);
});
setTimeout(() => process.exit(0), 60_000).unref(); // bounded: never outlives a test run
