// Load shedding and deadline caps (ServerOptions.maxConcurrentCalls,
// maxConcurrentCallsPerMethod, overloadPushbackMs, maxTimeoutMs) on real
// grpc-js servers on loopback, with generated clients.
import { afterEach, describe, expect, it } from "vitest";
import { GrpcError, RetryInfoSchema, Status, concurrentCalls, type ClientHook, type HandlerContext } from "@grpckit/runtime";
import { aborted, deferred, loadEcho, sleep, waitFor, type EchoModule } from "./support/echo.js";
import { insecure, startServer } from "./support/grpc.js";

interface Limited {
  readonly gen: EchoModule;
  readonly server: import("@grpc/grpc-js").Server;
  readonly client: EchoModule;
  readonly executions: { n: number; active: number };
  gate: ReturnType<typeof deferred>;
  close(): Promise<void>;
}

let open: Limited[] = [];
afterEach(async () => {
  for (const l of open) await l.close();
  open = [];
});

/**
 * An echo server with `options`. Echo: text "gate" waits for `gate`, "wait"
 * waits for the call's signal, else sleeps `delayMs`; `failCode` fails it.
 * Expand yields `count` messages; Collect drains its requests.
 */
async function startLimited(options: object, clientOptions: object = {}): Promise<Limited> {
  const gen = await loadEcho();
  const executions = { n: 0, active: 0 };
  const l = { gen, executions, gate: deferred() } as Limited & { gate: ReturnType<typeof deferred> };
  const impl = {
    async echo(req: { text: string; delayMs: number; failCode: number }, ctx: HandlerContext) {
      executions.n++;
      executions.active++;
      try {
        if (req.text === "gate") await l.gate.promise;
        if (req.text === "wait") throw await aborted(ctx.signal);
        if (req.delayMs > 0) await sleep(req.delayMs);
        if (req.failCode !== 0) throw new GrpcError(req.failCode, "failed on purpose");
        return { text: req.text };
      } finally {
        executions.active--;
      }
    },
    async *expand(req: { count: number }, ctx: HandlerContext) {
      executions.n++;
      for (let i = 0; i < req.count; i++) yield { index: i };
      await aborted(ctx.signal);
    },
    async collect(reqs: AsyncIterable<unknown>) {
      executions.n++;
      let count = 0;
      for await (const _ of reqs) count++;
      return { count };
    },
  };
  const s = await startServer((server) => gen.addPartialEchoService(server, impl, options));
  const client = new gen.EchoServiceClient(s.address, insecure(), clientOptions);
  Object.assign(l, {
    server: s.server,
    client,
    async close() {
      client.close();
      s.server.forceShutdown();
    },
  });
  open.push(l);
  return l;
}

const outcome = (p: Promise<unknown>) => p.then(() => "ok" as const, (e: unknown) => e as GrpcError);

describe("maxConcurrentCalls", { timeout: 30_000 }, () => {
  it("N + k concurrent calls with limit N: exactly k RESOURCE_EXHAUSTED at once, with grpc-retry-pushback-ms and RetryInfo; N handlers run", async () => {
    const N = 3;
    const k = 2;
    const l = await startLimited({ maxConcurrentCalls: N, overloadPushbackMs: 250 });
    const calls = Array.from({ length: N + k }, () => outcome(l.client.echo({ text: "gate" })));
    await waitFor(() => l.executions.active === N, 5000, `${N} running handlers`);
    // The k refused calls settle while the N admitted ones still wait on the gate.
    const settledEarly: (GrpcError | "ok")[] = [];
    for (const c of calls) void c.then((r) => settledEarly.push(r));
    await waitFor(() => settledEarly.length === k, 5000, `${k} refused calls`);
    expect(concurrentCalls(l.server).total).toBe(N);
    for (const err of settledEarly as GrpcError[]) {
      expect(err).toBeInstanceOf(GrpcError);
      expect([err.code, err.rawMessage]).toEqual([Status.RESOURCE_EXHAUSTED, "server overloaded"]);
      expect(err.metadata.get("grpc-retry-pushback-ms")).toEqual(["250"]);
      const info = err.findDetail(RetryInfoSchema);
      expect([Number(info?.retryDelay?.seconds), info?.retryDelay?.nanos]).toEqual([0, 250_000_000]);
    }
    l.gate.resolve();
    const results = await Promise.all(calls);
    expect(results.filter((r) => r === "ok")).toHaveLength(N);
    expect(l.executions.n).toBe(N);
    await waitFor(() => concurrentCalls(l.server).total === 0, 2000, "every slot released");
  });

  it("the generated client with a retry service config honours the pushback: every call succeeds, each executed once", async () => {
    const attempts: { attempt: number; backoffMs: number }[] = [];
    const countAttempts: ClientHook = () => ({ attempt: (a) => void attempts.push({ attempt: a.attempt, backoffMs: a.backoffMs }) });
    const serviceConfig = {
      methodConfig: [{
        name: [{ service: "demo.v1.EchoService", method: "Echo" }],
        retryPolicy: { maxAttempts: 5, initialBackoff: "0.05s", maxBackoff: "0.5s", backoffMultiplier: 2, retryableStatusCodes: ["RESOURCE_EXHAUSTED"] },
      }],
    };
    const N = 2;
    const calls = 6;
    const l = await startLimited({ maxConcurrentCalls: N, overloadPushbackMs: 150 }, { serviceConfig, hooks: [countAttempts] });
    const results = await Promise.all(Array.from({ length: calls }, (_, i) => outcome(l.client.echo({ text: `c${i}`, delayMs: 20 }))));
    expect(results).toEqual(Array(calls).fill("ok"));
    expect(l.executions.n).toBe(calls);
    const retries = attempts.filter((a) => a.attempt > 1);
    expect(retries.length).toBeGreaterThanOrEqual(calls - N);
    for (const r of retries) expect(r.backoffMs).toBe(150);
    await waitFor(() => concurrentCalls(l.server).total === 0, 2000, "every slot released");
  });

  it("the slot is released on every end path: ok, error, cancel, deadline, streams left early", async () => {
    const l = await startLimited({ maxConcurrentCalls: 2 });
    const idle = () => waitFor(() => concurrentCalls(l.server).total === 0, 3000, "slot count back to 0");
    await l.client.echo({ text: "x" });
    await idle();
    expect((await outcome(l.client.echo({ failCode: Status.NOT_FOUND }))) as GrpcError).toMatchObject({ code: Status.NOT_FOUND });
    await idle();
    for (let i = 0; i < 3; i++) {
      const ac = new AbortController();
      const call = outcome(l.client.echo({ text: "wait" }, { signal: ac.signal }));
      await waitFor(() => l.executions.active === 1, 3000, "the waiting handler");
      ac.abort();
      expect(((await call) as GrpcError).code).toBe(Status.CANCELLED);
      await idle();
    }
    expect(((await outcome(l.client.echo({ text: "wait" }, { timeoutMs: 100 }))) as GrpcError).code).toBe(Status.DEADLINE_EXCEEDED);
    await idle();
    for await (const r of l.client.expand({ count: 5 })) if (r.index === 1) break;
    await idle();
    const ac = new AbortController();
    async function* slowRequests() {
      yield {};
      await sleep(50);
      ac.abort();
      await sleep(10_000);
    }
    expect(((await outcome(l.client.collect(slowRequests(), { signal: ac.signal }))) as GrpcError).code).toBe(Status.CANCELLED);
    await idle();
    // Both slots are free again: two concurrent calls are admitted.
    const both = await Promise.all([outcome(l.client.echo({ delayMs: 30 })), outcome(l.client.echo({ delayMs: 30 }))]);
    expect(both).toEqual(["ok", "ok"]);
    expect(concurrentCalls(l.server).byMethod.get("/demo.v1.EchoService/Echo")).toBe(0);
  });
});

describe("maxConcurrentCallsPerMethod", { timeout: 20_000 }, () => {
  it("a map by method name limits that method only", async () => {
    const l = await startLimited({ maxConcurrentCallsPerMethod: { Echo: 1 } });
    const first = outcome(l.client.echo({ text: "gate" }));
    await waitFor(() => l.executions.active === 1, 3000, "the first call");
    const second = (await outcome(l.client.echo({ text: "x" }))) as GrpcError;
    expect(second.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(second.metadata.get("grpc-retry-pushback-ms")).toEqual(["100"]); // the default overloadPushbackMs
    expect(await l.client.collect([{}, {}])).toMatchObject({ count: 2 }); // another method: no limit
    l.gate.resolve();
    expect(await first).toBe("ok");
    expect(l.executions.n).toBe(2);
  });

  it("a number limits every method of the service separately", async () => {
    const l = await startLimited({ maxConcurrentCallsPerMethod: 1 });
    const gated = outcome(l.client.echo({ text: "gate" }));
    await waitFor(() => l.executions.active === 1, 3000, "the first call");
    expect(((await outcome(l.client.echo({}))) as GrpcError).code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(await l.client.collect([{}])).toMatchObject({ count: 1 });
    l.gate.resolve();
    await gated;
  });

  it("rejects invalid limits at registration", async () => {
    await expect(startLimited({ maxConcurrentCalls: 0 })).rejects.toThrow(RangeError);
    await expect(startLimited({ maxConcurrentCallsPerMethod: { Echo: 1.5 } })).rejects.toThrow(RangeError);
  });
});

describe("maxTimeoutMs", { timeout: 20_000 }, () => {
  it("a grpc-timeout above the cap is INVALID_ARGUMENT before the handler; at or below it, or none, is served", async () => {
    const l = await startLimited({ maxTimeoutMs: 2000 });
    const err = (await outcome(l.client.echo({}, { timeoutMs: 60_000 }))) as GrpcError;
    expect(err.code).toBe(Status.INVALID_ARGUMENT);
    expect(err.rawMessage).toBe("the call's timeout exceeds the server's maximum of 2000 ms");
    expect(l.executions.n).toBe(0);
    expect(await outcome(l.client.echo({}, { timeoutMs: 1500 }))).toBe("ok");
    expect(await outcome(l.client.echo({}))).toBe("ok");
    expect(l.executions.n).toBe(2);
  });
});
