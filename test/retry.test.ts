import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GrpcError, Status, pushbackError, type AttemptInfo, type HandlerContext } from "protoc-gen-grpckit/runtime";
import { insecure, startServer } from "./support/grpc.js";
import { ExecutionCounter, loadFaults, seededFailures, startTcpProxy, type FaultsModule } from "./support/fault-server.js";

const fast = { initialBackoffMs: 1, maxBackoffMs: 4 };

/** A fault server: `decide(id, n)` returns an error to throw for the n-th execution of a call id, or undefined. */
async function startFaultServer(gen: FaultsModule, decide: (method: string, id: string, n: number) => Error | undefined, delayMs = 0) {
  const counter = new ExecutionCounter();
  const serve = (method: string) => async (req: { id: string }) => {
    const n = counter.count(`${method}:${req.id}`);
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    const err = decide(method, req.id, n);
    if (err) throw err;
    return { id: req.id };
  };
  const s = await startServer((server) =>
    gen.addPartialFaultService(server, {
      get: serve("get"),
      put: serve("put"),
      pay: serve("pay"),
      async *list(req: { id: string; count: number }) {
        const n = counter.count(`list:${req.id}`);
        const err = decide("list", req.id, n);
        yield { id: req.id, index: 0 };
        if (err) throw err;
        for (let i = 1; i < req.count; i++) yield { id: req.id, index: i };
      },
    }),
  );
  return { ...s, counter };
}

const unavailable = () => new GrpcError(Status.UNAVAILABLE, "injected");

describe("retries against real grpc-js servers (gRFC A6)", () => {
  let gen: FaultsModule;
  beforeAll(async () => {
    gen = await loadFaults();
  });

  it("30% UNAVAILABLE, 5 attempts: idempotent calls succeed (seeded independent failures and a spread pattern)", async () => {
    const fail = seededFailures(42, 0.3);
    let k = 0;
    const spread = () => [0, 3, 6].includes(k++ % 10); // 3 in 10 executions, never 5 in a row
    let pattern = fail;
    const server = await startFaultServer(gen, () => (pattern() ? unavailable() : undefined));
    const client = new gen.FaultServiceClient(server.address, insecure(), { retry: fast, retryThrottling: false });
    const run = async (calls: number) => {
      let ok = 0;
      for (let batch = 0; batch < calls; batch += 50) {
        const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => client.get({ id: `${batch + i}` })));
        ok += results.filter((r) => r.status === "fulfilled").length;
      }
      return ok / calls;
    };
    // Independent 30% failures: P(5 failures in a row) = 0.3^5 = 0.243%, so ~99.76% is the ceiling.
    const independent = await run(2000);
    expect(independent).toBeGreaterThanOrEqual(0.995);
    pattern = spread;
    server.counter.reset();
    const spreadRate = await run(2000);
    expect(spreadRate).toBeGreaterThanOrEqual(0.999);
    expect(Math.max(...server.counter.byId.values())).toBeLessThanOrEqual(5);
    client.close();
    await server.stop();
  });

  it("non-idempotent methods run at most once per call, even with every fault", async () => {
    const server = await startFaultServer(gen, () => unavailable());
    const proxy = await startTcpProxy(server.address);
    const client = new gen.FaultServiceClient(proxy.address, insecure(), { retry: fast, retryThrottling: false });
    const errors = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => client.pay({ id: `p${i}` })));
    expect(errors.every((r) => r.status === "rejected")).toBe(true);
    expect(Math.max(...server.counter.byId.values())).toBe(1);
    // connections cut abruptly mid-call: still never more than one execution
    const slow = await startFaultServer(gen, () => undefined, 50);
    const proxy2 = await startTcpProxy(slow.address);
    const client2 = new gen.FaultServiceClient(proxy2.address, insecure(), { retry: fast, retryThrottling: false });
    const calls = Array.from({ length: 20 }, (_, i) => client2.pay({ id: `c${i}` }).catch((e: GrpcError) => e));
    await new Promise((r) => setTimeout(r, 20));
    proxy2.cutAll();
    const out = await Promise.all(calls);
    expect(out.filter((e) => e instanceof GrpcError).length).toBeGreaterThan(0);
    for (const n of slow.counter.byId.values()) expect(n).toBeLessThanOrEqual(1);
    for (const c of [client, client2]) c.close();
    await Promise.all([proxy.close(), proxy2.close(), server.stop(), slow.stop()]);
  });

  it("INVALID_ARGUMENT and other non-retryable codes are never retried", async () => {
    const server = await startFaultServer(gen, () => new GrpcError(Status.INVALID_ARGUMENT, "bad"));
    const client = new gen.FaultServiceClient(server.address, insecure(), { retry: fast });
    await expect(client.get({ id: "x" })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
    expect(server.counter.total).toBe(1);
    client.close();
    await server.stop();
  });

  it("every attempt reaches the attempt hook, with its backoff and the previous failure", async () => {
    const server = await startFaultServer(gen, (_m, _id, n) => (n < 3 ? unavailable() : undefined));
    const attempts: AttemptInfo[] = [];
    const client = new gen.FaultServiceClient(server.address, insecure(), { retry: fast, hooks: [() => ({ attempt: (a: AttemptInfo) => attempts.push(a) })] });
    await client.put({ id: "h" });
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect(attempts[0]).toMatchObject({ backoffMs: 0 });
    expect(attempts[1]?.previous?.code).toBe(Status.UNAVAILABLE);
    client.close();
    await server.stop();
  });

  it("no call outlives its deadline (tolerance 50 ms) through attempts and backoff", async () => {
    const server = await startFaultServer(gen, () => unavailable(), 30);
    const client = new gen.FaultServiceClient(server.address, insecure(), { retry: { maxAttempts: 5, initialBackoffMs: 40, maxBackoffMs: 200 }, retryThrottling: false });
    const late: number[] = [];
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const timeoutMs = 20 + (i % 8) * 25;
        const deadline = Date.now() + timeoutMs;
        const err = await client.get({ id: `d${i}` }, { timeoutMs }).catch((e: GrpcError) => e);
        expect(err).toBeInstanceOf(GrpcError);
        expect([Status.DEADLINE_EXCEEDED, Status.UNAVAILABLE]).toContain(err.code);
        late.push(Date.now() - deadline);
      }),
    );
    expect(Math.max(...late)).toBeLessThanOrEqual(50);
    client.close();
    await server.stop();
  });

  it("an AbortSignal ends a pending backoff at once with CANCELLED", async () => {
    const server = await startFaultServer(gen, () => unavailable());
    const client = new gen.FaultServiceClient(server.address, insecure(), { retry: { initialBackoffMs: 5000, maxBackoffMs: 5000 }, retryThrottling: false });
    const ac = new AbortController();
    const started = Date.now();
    const call = client.get({ id: "a" }, { signal: ac.signal }).catch((e: GrpcError) => e);
    await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    const err = await call;
    expect(err.code).toBe(Status.CANCELLED);
    expect(Date.now() - started).toBeLessThan(1000);
    client.close();
    await server.stop();
  });

  it("throttling bounds attempts when the server fails everything", async () => {
    const server = await startFaultServer(gen, () => unavailable());
    const client = new gen.FaultServiceClient(server.address, insecure(), { retry: fast, retryThrottling: { maxTokens: 10, tokenRatio: 0.1 } });
    for (let i = 0; i < 100; i++) await client.get({ id: `t${i}` }).catch(() => undefined);
    // 100 first attempts; retries only while tokens > 5: at most 5 retries in all.
    expect(server.counter.total).toBeLessThanOrEqual(105);
    expect(server.counter.total).toBeGreaterThan(100);
    client.close();
    await server.stop();
  });

  it("server streams are not retried after the first response message", async () => {
    const server = await startFaultServer(gen, () => unavailable());
    const client = new gen.FaultServiceClient(server.address, insecure(), { retry: fast, retryThrottling: false });
    const got: number[] = [];
    const err = await (async () => {
      for await (const r of client.list({ id: "s", count: 3 })) got.push(r.index);
    })().catch((e: GrpcError) => e);
    expect(got).toEqual([0]);
    expect(err).toMatchObject({ code: Status.UNAVAILABLE });
    expect(server.counter.total).toBe(1);
    client.close();
    await server.stop();
  });

  it("server pushback (grpc-retry-pushback-ms / RetryInfo) sets the delay; a negative pushback stops retries", async () => {
    const server = await startFaultServer(gen, (method, _id, n) => {
      if (method === "get" && n === 1) return pushbackError(Status.UNAVAILABLE, "busy", { retryAfterMs: 300 });
      if (method === "put") return pushbackError(Status.UNAVAILABLE, "go away", { retryAfterMs: -1 });
      return undefined;
    });
    const attempts: AttemptInfo[] = [];
    const client = new gen.FaultServiceClient(server.address, insecure(), { retry: fast, hooks: [() => ({ attempt: (a: AttemptInfo) => attempts.push(a) })] });
    const t0 = Date.now();
    await client.get({ id: "p" });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(295);
    expect(attempts[1]?.backoffMs).toBe(300);
    await expect(client.put({ id: "q" })).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    expect(server.counter.byId.get("put:q")).toBe(1);
    client.close();
    await server.stop();
  });

  it("a connection refused before sending is retried transparently even for non-idempotent methods", async () => {
    const server = await startFaultServer(gen, () => undefined);
    const proxy = await startTcpProxy(server.address);
    proxy.dropping = true;
    const client = new gen.FaultServiceClient(proxy.address, insecure(), { retry: fast, "grpc.initial_reconnect_backoff_ms": 50 });
    setTimeout(() => (proxy.dropping = false), 150);
    const res = await client.pay({ id: "w" }, { timeoutMs: 3000, ...{ metadata: {} } }).catch((e: GrpcError) => e);
    // Without waitForReady a call fails fast while the channel is in TRANSIENT_FAILURE; either way it ran at most once.
    expect(server.counter.byId.get("pay:w") ?? 0).toBeLessThanOrEqual(1);
    if (!(res instanceof GrpcError)) expect(res.id).toBe("w");
    client.close();
    await Promise.all([proxy.close(), server.stop()]);
  });
});

describe("deadline and cancellation propagation", () => {
  let gen: FaultsModule;
  beforeAll(async () => {
    gen = await loadFaults();
  });
  let cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup) await c();
  });

  it("a downstream call inherits the handler's deadline (earlier wins) and its cancellation; propagate:false opts out", async () => {
    let downstreamCtx: HandlerContext | undefined;
    let downstreamCancelled: Promise<unknown> | undefined;
    const down = await startServer((server) =>
      gen.addPartialFaultService(server, {
        async get(req: { id: string }, ctx: HandlerContext) {
          downstreamCtx = ctx;
          downstreamCancelled = new Promise((r) => ctx.signal.addEventListener("abort", () => r(ctx.signal.reason)));
          if (req.id === "hang") await downstreamCancelled;
          return { id: req.id };
        },
      }),
    );
    const downClient = new gen.FaultServiceClient(down.address, insecure());
    const up = await startServer((server) =>
      gen.addPartialFaultService(server, {
        async relay(req: { id: string }) {
          return downClient.get({ id: req.id }, req.id === "optout" ? { propagate: false } : { timeoutMs: 60_000 });
        },
      }),
    );
    const upClient = new gen.FaultServiceClient(up.address, insecure());
    cleanup = [async () => { upClient.close(); downClient.close(); await up.stop(); await down.stop(); }];

    const before = Date.now();
    await upClient.relay({ id: "x" }, { timeoutMs: 2000 });
    expect(downstreamCtx?.deadline).toBeDefined();
    expect(downstreamCtx!.deadline!).toBeLessThanOrEqual(before + 2000 + 50);

    await upClient.relay({ id: "optout" }, { timeoutMs: 2000 });
    expect(downstreamCtx?.deadline).toBeUndefined();

    const ac = new AbortController();
    const call = upClient.relay({ id: "hang" }, { signal: ac.signal }).catch((e: GrpcError) => e);
    await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    expect((await call).code).toBe(Status.CANCELLED);
    const reason = (await downstreamCancelled) as GrpcError;
    expect(reason.code).toBe(Status.CANCELLED);
  });
});
