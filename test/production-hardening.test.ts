// The operations features when user code misbehaves or the timing is unlucky: an
// onAuthenticationError that throws, a call cancelled while authenticate is pending,
// a server hook that throws at call start (the concurrency slot must come back), a
// shutdown (a signal) while listen() is still binding, signal handlers after the
// server is down. Real grpc-js servers on 127.0.0.1, generated clients (real protoc).
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { GrpcError, Status, concurrentCalls, type ServerHook } from "@grpckit/runtime";
import { serveProduction, shutdownOnSignals } from "@grpckit/runtime/production";
import { aborted, deferred, loadEcho, sleep, waitFor, type EchoModule } from "./support/echo.js";
import { insecure, startServer } from "./support/grpc.js";
import { generateWithDebianProtos, type Generated } from "./support/health-clients.js";

let gen: EchoModule;
let health: Generated;
beforeAll(async () => {
  gen = await loadEcho();
  const out = generateWithDebianProtos(["grpc/health/v1/health.proto"]);
  health = await import(`${out}/grpc/health/v1/health_grpckit.ts`);
});

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const code = (p: Promise<unknown>) => p.then(() => "OK" as const, (e: GrpcError) => e.code);

async function echoServer(impl: object, options: object) {
  const s = await startServer((server) => gen.addPartialEchoService(server, impl, options));
  const client = new gen.EchoServiceClient(s.address, insecure());
  cleanups.push(() => {
    client.close();
    s.server.forceShutdown();
  });
  return { server: s.server, client };
}

describe("authentication", () => {
  it("a throwing onAuthenticationError does not turn UNAUTHENTICATED into INTERNAL", { timeout: 8000 }, async () => {
    const { client } = await echoServer({ echo: async () => ({ text: "x" }) }, {
      authenticate: () => {
        throw new GrpcError(Status.UNAUTHENTICATED, "no");
      },
      onAuthenticationError: () => {
        throw new Error("log sink unavailable");
      },
      onInternalError: () => {},
    });
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      expect(await code(client.echo({ text: "a" }))).toBe(Status.UNAUTHENTICATED);
      expect(String(logged.mock.calls[0]?.[0])).toContain("onAuthenticationError threw");
    } finally {
      logged.mockRestore();
    }
  });

  it("a call cancelled or expired during authenticate never reaches the handler", { timeout: 8000 }, async () => {
    const gate = deferred<unknown>();
    let authCalls = 0;
    const runs: string[] = [];
    const { client } = await echoServer(
      {
        async echo(req: { text: string }) {
          runs.push(req.text);
          return { text: "x" };
        },
      },
      {
        authenticate: () => {
          authCalls++;
          return gate.promise;
        },
      },
    );
    const ac = new AbortController();
    const cancelled = code(client.echo({ text: "cancelled" }, { signal: ac.signal }));
    const expired = code(client.echo({ text: "expired" }, { timeoutMs: 300 }));
    await waitFor(() => authCalls === 2);
    ac.abort();
    expect(await cancelled).toBe(Status.CANCELLED);
    expect(await expired).toBe(Status.DEADLINE_EXCEEDED);
    gate.resolve({ user: "u" });
    await sleep(200);
    expect(runs).toEqual([]);
  });
});

describe("limits", () => {
  it("a hook that throws at call start releases its concurrency slot", { timeout: 8000 }, async () => {
    const failing: ServerHook = () => {
      throw new Error("hook start failed");
    };
    const internal: unknown[] = [];
    const { server, client } = await echoServer({ echo: async () => ({ text: "x" }) }, {
      hooks: [failing],
      maxConcurrentCalls: 1,
      onInternalError: (e: unknown) => internal.push(e),
    });
    const first = await code(client.echo({ text: "a" }, { timeoutMs: 2000 }));
    await sleep(50);
    expect(concurrentCalls(server).total).toBe(0);
    expect(await code(client.echo({ text: "b" }, { timeoutMs: 2000 }))).not.toBe(Status.RESOURCE_EXHAUSTED);
    expect(first).toBe(Status.INTERNAL);
    expect(internal.map((e) => (e as Error).message)).toEqual(["hook start failed", "hook start failed"]);
  });
});

describe("graceful shutdown", () => {
  it("shutdown() during listen() leaves neither the main nor the probe server serving", { timeout: 8000 }, async () => {
    const server = new Server();
    gen.addPartialEchoService(server, { echo: async () => ({ text: "x" }) });
    const kit = serveProduction(server, { healthPort: 0 });
    const listening = kit.listen("127.0.0.1:0", ServerCredentials.createInsecure());
    const down = kit.shutdown();
    const port = await listening.catch(() => undefined);
    await down;
    cleanups.push(() => server.forceShutdown());
    await sleep(100);
    expect(port).toBeTypeOf("number"); // listen() completed: shutdown() waited for its binds
    expect(kit.healthProbePort).toBeTypeOf("number");
    const client = new gen.EchoServiceClient(`127.0.0.1:${port}`, insecure());
    cleanups.push(() => client.close());
    expect(await code(client.echo({ text: "after shutdown" }, { timeoutMs: 1000 }))).not.toBe("OK"); // no server: UNAVAILABLE or, while the idempotent call waits for a connection, DEADLINE_EXCEEDED
    const probe = new health.HealthClient(`127.0.0.1:${kit.healthProbePort}`, insecure());
    cleanups.push(() => probe.close());
    expect(await code(probe.check({ service: "" }, { timeoutMs: 1000 }))).not.toBe("OK");
  });
  it("shutdownOnSignals(server) removes its handlers once the server is down", { timeout: 8000 }, async () => {
    const s = await startServer(() => {});
    cleanups.push(() => s.server.forceShutdown());
    const before = process.listenerCount("SIGUSR2");
    const done = deferred();
    const remove = shutdownOnSignals(s.server, { signals: ["SIGUSR2"], onShutdown: () => done.resolve() });
    cleanups.push(remove);
    process.emit("SIGUSR2" as never);
    await done.promise;
    expect(process.listenerCount("SIGUSR2")).toBe(before);
  });
});
