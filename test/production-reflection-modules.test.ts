// addReflectionService from the built package (dist/esm, dist/cjs through the "exports" map;
// needs `npm run build`), each in its own node process: @grpc/reflection is loaded only when
// asked for, answers list_services in both module systems, and its absence is reported by name.
import { beforeAll, describe, expect, it } from "vitest";
import { runProductionScript, writePeerHook } from "./support/peer-hook.js";

let hook: string;
beforeAll(() => {
  hook = writePeerHook(["grpc-health-check", "@grpc/reflection"]);
});

// ServerReflectionRequest { list_services (field 7) = "*" }: tag 0x3a, length 1, "*"
const body = `
const loadedAtImport = [...globalThis.__peerLoads];
let result;
try {
  const server = new grpc.Server();
  production.addReflectionService(server);
  const port = await new Promise((ok, ko) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? ko(e) : ok(p))));
  const client = new grpc.Client("127.0.0.1:" + port, grpc.credentials.createInsecure());
  const list = (version) => new Promise((ok, ko) => {
    const call = client.makeBidiStreamRequest("/grpc.reflection." + version + ".ServerReflection/ServerReflectionInfo", (b) => b, (b) => b);
    const names = [];
    call.on("data", (b) => names.push(...(b.toString("latin1").match(/grpc\\.reflection\\.v1(alpha)?\\.ServerReflection/g) || [])));
    call.on("error", ko);
    call.on("status", (s) => (s.code === 0 ? ok(names.sort()) : ko(new Error(s.details))));
    call.write(Buffer.from([0x3a, 0x01, 0x2a]));
    call.end();
  });
  result = { v1: await list("v1"), v1alpha: await list("v1alpha") };
  client.close();
  server.forceShutdown();
} catch (e) {
  result = { error: e.message };
}
console.log(JSON.stringify({ loadedAtImport, loads: globalThis.__peerLoads, result }));`;

function run(kind: "esm" | "cjs", hide = ""): unknown {
  return runProductionScript(hook, kind, body, hide);
}

describe.each(["esm", "cjs"] as const)("@grpckit/runtime/production reflection from dist (%s)", (kind) => {
  it("loads @grpc/reflection only at addReflectionService(), then lists the reflection services on v1 and v1alpha", () => {
    const names = ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"];
    expect(run(kind)).toEqual({ loadedAtImport: [], loads: ["@grpc/reflection"], result: { v1: names, v1alpha: names } });
  });

  it("without @grpc/reflection installed, addReflectionService() throws an Error naming the package", () => {
    expect(run(kind, "@grpc/reflection")).toEqual({
      loadedAtImport: [],
      loads: ["@grpc/reflection"],
      result: { error: 'addReflectionService() needs the optional peer dependency "@grpc/reflection": npm install @grpc/reflection' },
    });
  });
});
