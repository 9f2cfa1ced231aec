// addHealthService from the built package (dist/esm, dist/cjs through the "exports" map; needs
// `npm run build`), each in its own node process: grpc-health-check is loaded only when asked
// for, serves Check in both module systems, and its absence is reported by name.
import { beforeAll, describe, expect, it } from "vitest";
import { runProductionScript, writePeerHook } from "./support/peer-hook.js";

let hook: string;
beforeAll(() => {
  hook = writePeerHook(["grpc-health-check", "@grpc/reflection"]);
});

const body = `
const loadedAtImport = [...globalThis.__peerLoads];
let result;
try {
  const server = new grpc.Server();
  const reporter = production.addHealthService(server);
  const port = await new Promise((ok, ko) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? ko(e) : ok(p))));
  const client = new grpc.Client("127.0.0.1:" + port, grpc.credentials.createInsecure());
  const check = () => new Promise((ok, ko) => client.makeUnaryRequest("/grpc.health.v1.Health/Check", (b) => b, (b) => b, Buffer.alloc(0), (e, r) => (e ? ko(e) : ok([...r]))));
  const before = await check();
  reporter.drain();
  const after = await check();
  client.close();
  server.forceShutdown();
  result = { before, after };
} catch (e) {
  result = { error: e.message };
}
console.log(JSON.stringify({ loadedAtImport, loads: globalThis.__peerLoads, result }));`;

function run(kind: "esm" | "cjs", hide = ""): unknown {
  return runProductionScript(hook, kind, body, hide);
}

describe.each(["esm", "cjs"] as const)("@grpckit/runtime/production health from dist (%s)", (kind) => {
  it("loads grpc-health-check only at addHealthService(), then answers Check: SERVING, NOT_SERVING after drain", () => {
    // HealthCheckResponse bytes: field 1 (status) varint; SERVING = 1, NOT_SERVING = 2
    expect(run(kind)).toEqual({ loadedAtImport: [], loads: ["grpc-health-check"], result: { before: [8, 1], after: [8, 2] } });
  });

  it("without grpc-health-check installed, addHealthService() throws an Error naming the package", () => {
    expect(run(kind, "grpc-health-check")).toEqual({
      loadedAtImport: [],
      loads: ["grpc-health-check"],
      result: { error: 'addHealthService() needs the optional peer dependency "grpc-health-check": npm install grpc-health-check' },
    });
  });
});
