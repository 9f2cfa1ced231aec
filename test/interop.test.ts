import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GrpcError, Status } from "@grpckit/runtime";
import { insecure, startServer } from "./support/grpc.js";
import { bin, root } from "./support/paths.js";
import { typecheckDir } from "./support/typecheck.js";

/**
 * gRPC's interop test cases (doc/interop-test-descriptions.md in grpc/grpc)
 * between the example server (examples/interop, on the generated server
 * skeleton) and the generated clients, on 127.0.0.1. The protos come from
 * Debian's grpc-proto package and are generated into examples/interop/gen/.
 */
const cases = [
  "empty_unary",
  "large_unary",
  "client_streaming",
  "server_streaming",
  "ping_pong",
  "empty_stream",
  "timeout_on_sleeping_server",
  "cancel_after_begin",
  "cancel_after_first_response",
  "custom_metadata",
  "status_code_and_message",
  "special_status_message",
  "unimplemented_method",
  "unimplemented_service",
];

const example = join(root, "examples", "interop");
type Cases = typeof import("../examples/interop/test-cases.js");
type Gen = typeof import("../examples/interop/gen/grpc/testing/test_grpckit.js");

describe("grpc interop test cases through the generated code", () => {
  let tc: Cases;
  let gen: Gen;
  let clients: ReturnType<Cases["createInteropClients"]>;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const { generate } = (await import(join(example, "generate.mjs"))) as { generate(): string };
    generate();
    tc = await import("../examples/interop/test-cases.js");
    gen = await import("../examples/interop/gen/grpc/testing/test_grpckit.js");
    const { addInteropTestService } = await import("../examples/interop/test-service.js");
    const s = await startServer(addInteropTestService);
    stop = s.stop;
    clients = tc.createInteropClients(s.address, insecure());
  });
  afterAll(async () => {
    if (clients) tc.closeInteropClients(clients);
    await stop?.();
  });

  it("the example implements exactly the listed cases", () => {
    expect(Object.keys(tc.interopCases)).toEqual(cases);
  });

  for (const name of cases) {
    it(name, async () => {
      await tc.interopCases[name]!(clients);
    }, 20_000);
  }

  it("the generated code and the example type-check under strict (nodenext)", () => {
    expect(typecheckDir(example, { module: "nodenext" })).toEqual([]);
  }, 120_000);

  it("the cases detect a server that breaks the contract", async () => {
    const broken = await startServer((server) =>
      gen.addPartialTestService(server, {
        async unaryCall(request) {
          return { payload: { body: new Uint8Array(Math.max(0, request.responseSize - 1)) } };
        },
        async *fullDuplexCall(requests) {
          for await (const r of requests) {
            if (r.responseStatus) throw new GrpcError(Status.INTERNAL, "not the echoed status");
            yield { payload: { body: new Uint8Array(1) } };
          }
        },
      }),
    );
    const c = tc.createInteropClients(broken.address, insecure());
    try {
      await expect(tc.interopCases.large_unary!(c)).rejects.toThrow(/314159 bytes, got 314158/);
      await expect(tc.interopCases.empty_unary!(c)).rejects.toThrow(/UNIMPLEMENTED/);
      await expect(tc.interopCases.ping_pong!(c)).rejects.toThrow(/31415 bytes, got 1/);
      await expect(tc.interopCases.status_code_and_message!(c)).rejects.toThrow(/fails with UNKNOWN, but it succeeded/);
      await expect(tc.interopCases.custom_metadata!(c)).rejects.toThrow(/assertion failed/);
    } finally {
      tc.closeInteropClients(c);
      await broken.stop();
    }
  });

  it("npm run interop:server / interop:client: the commands pass every case", async () => {
    const server = spawn(bin("tsx"), [join(example, "server.ts"), "--port", "0"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    try {
      const address = await new Promise<string>((resolve, reject) => {
        let out = "";
        server.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          const m = /listening on (\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        server.once("exit", (code) => reject(new Error(`server exited with ${code}: ${out}`)));
      });
      const { code, stdout } = await runClient(["--server", address]);
      expect(stdout.split("\n").filter((l) => l.startsWith("PASS ")).map((l) => l.slice(5))).toEqual(cases);
      expect(code).toBe(0);
      const bad = await runClient(["--server", address, "--test_case", "no_such_case"]);
      expect(bad.code).toBe(2);
    } finally {
      server.kill("SIGTERM");
    }
  }, 60_000);
});

function runClient(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const client = spawn(bin("tsx"), [join(example, "client.ts"), ...args], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    client.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    client.once("error", reject);
    client.once("exit", (code) => resolve({ code, stdout }));
  });
}
