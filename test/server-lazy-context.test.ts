import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GrpcError, Status, currentPropagatedContext, type HandlerContext } from "@grpckit/runtime";
import { deferred, loadEcho, sleep, startEcho, waitFor, type EchoModule, type EchoPair } from "./support/echo.js";
import { insecure } from "./support/grpc.js";

// The server allocates a call's AbortController, deadline timer, response
// metadata and peer only when the handler reads them (issue 8). What a
// handler observes must not depend on when it first looks.

describe("a call's state read late is the state of the call", { timeout: 10_000 }, () => {
  let gen: EchoModule;
  let pair: EchoPair;
  let down: EchoPair;
  let downDeadline: number | undefined;
  let seen: { ctx: HandlerContext; release: ReturnType<typeof deferred> } | undefined;
  let entered = deferred<HandlerContext>();

  beforeAll(async () => {
    gen = await loadEcho();
    // Clients with `propagate: false`: until a propagating client exists, servers do not enter the storage.
    down = await startEcho(gen, {
      async echo(_req: unknown, ctx: HandlerContext) {
        downDeadline = ctx.deadline;
        return { text: "down" };
      },
    }, {}, { propagate: false });
    pair = await startEcho(gen, {
      // Never reads ctx.signal (or anything else) until the test releases it.
      async echo(req: { text: string }, ctx: HandlerContext) {
        if (req.text === "relay") {
          // Created and called in the handler's synchronous part: inherits the deadline even if it is the process's first propagating client.
          const client = new gen.EchoServiceClient(down.address, insecure());
          try {
            return await client.echo({ text: "x" });
          } finally {
            client.close();
          }
        }
        if (req.text === "relay-after-await") {
          await sleep(1);
          const client = new gen.EchoServiceClient(down.address, insecure());
          try {
            return await client.echo({ text: "x" });
          } finally {
            client.close();
          }
        }
        const release = deferred();
        seen = { ctx, release };
        entered.resolve(ctx);
        await release.promise;
        return { text: req.text };
      },
    }, {}, { propagate: false });
  });
  afterAll(async () => {
    await pair?.close();
    await down?.close();
  });

  it("a client created and called in the handler's synchronous part inherits its deadline (first propagating client of the process)", async () => {
    const before = Date.now();
    await pair.client.echo({ text: "relay" }, { timeoutMs: 5000 });
    expect(downDeadline).toBeDefined();
    expect(downDeadline as number).toBeLessThanOrEqual(before + 5000 + 50);
  });

  it("once a propagating client exists, the deadline is inherited after an await too", async () => {
    downDeadline = undefined;
    const before = Date.now();
    await pair.client.echo({ text: "relay-after-await" }, { timeoutMs: 5000 });
    expect(downDeadline).toBeDefined();
    expect(downDeadline as number).toBeLessThanOrEqual(before + 5000 + 50);
    expect(currentPropagatedContext()).toBeUndefined(); // outside a handler
  });

  it("a signal first read after the client cancelled is already aborted with CANCELLED", async () => {
    entered = deferred<HandlerContext>();
    const ac = new AbortController();
    const call = pair.client.echo({ text: "a" }, { signal: ac.signal }).catch((e: unknown) => e);
    await entered.promise;
    ac.abort();
    expect(((await call) as GrpcError).code).toBe(Status.CANCELLED);
    const { ctx, release } = seen!;
    // The grpc-js call's own flag (not the context's API): the server has seen the RST_STREAM.
    const grpcCall = (ctx as unknown as { call: { cancelled: boolean } }).call;
    await waitFor(() => grpcCall.cancelled, 5000, "the server-side cancellation");
    expect(ctx.signal.aborted).toBe(true);
    expect((ctx.signal.reason as GrpcError).code).toBe(Status.CANCELLED);
    release.resolve();
  });

  it("a signal first read after the deadline passed is already aborted", async () => {
    entered = deferred<HandlerContext>();
    const call = pair.client.echo({ text: "a" }, { timeoutMs: 100 }).catch((e: unknown) => e);
    const ctx = await entered.promise;
    expect(((await call) as GrpcError).code).toBe(Status.DEADLINE_EXCEEDED);
    await waitFor(() => (ctx.deadline as number) <= Date.now(), 5000, "the server's deadline");
    expect(ctx.signal.aborted).toBe(true);
    expect([Status.DEADLINE_EXCEEDED, Status.CANCELLED]).toContain((ctx.signal.reason as GrpcError).code);
    expect(ctx.timeRemainingMs()).toBe(0);
    seen!.release.resolve();
  });

  it("a signal first read while the call is live aborts later; one first read after a normal end never aborts", async () => {
    entered = deferred<HandlerContext>();
    const call = pair.client.echo({ text: "ok" }, { timeoutMs: 300 }).catch((e: unknown) => e);
    const ctx = await entered.promise;
    const live = ctx.signal;
    expect(live.aborted).toBe(false);
    await sleep(400);
    expect(live.aborted).toBe(true);
    expect(((await call) as GrpcError).code).toBe(Status.DEADLINE_EXCEEDED);
    seen!.release.resolve();

    entered = deferred<HandlerContext>();
    const done = pair.client.echo({ text: "fine" }, { timeoutMs: 200 });
    const ctx2 = await entered.promise;
    seen!.release.resolve();
    expect(await done).toMatchObject({ text: "fine" });
    expect(ctx2.responseHeader.getMap()).toEqual({});
    expect(ctx2.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    const after = ctx2.signal;
    await sleep(300);
    expect(after.aborted).toBe(false);
  });
});
