import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GrpcError, Status, currentPropagatedContext, type HandlerContext } from "@grpckit/runtime";
import { deferred, loadEcho, sleep, startEcho, waitFor, type EchoModule, type EchoPair } from "./support/echo.js";
import { insecure, startServer } from "./support/grpc.js";
import { parsePeer } from "../templates/runtime/telemetry/attributes.js";
import { ServerCall, type ServedMethod, type SurfaceCall } from "../templates/runtime/server-context.js";

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

  it("a peer first read after the client cancelled is the peer the call started with", async () => {
    const client = new gen.EchoServiceClient(pair.address, insecure(), { propagate: false });
    try {
      entered = deferred<HandlerContext>();
      const ac = new AbortController();
      const cancelled = client.echo({ text: "a" }, { signal: ac.signal }).catch((e: unknown) => e);
      const first = await entered.promise;
      const releaseFirst = seen!.release;
      entered = deferred<HandlerContext>();
      const live = client.echo({ text: "b" });
      const second = await entered.promise;
      const livePeer = second.peer; // the same client, so the same connection and peer
      expect(livePeer).toMatch(/^127\.0\.0\.1:\d+$/);
      ac.abort();
      expect(((await cancelled) as GrpcError).code).toBe(Status.CANCELLED);
      const grpcCall = (first as unknown as { call: { cancelled: boolean } }).call;
      await waitFor(() => grpcCall.cancelled, 5000, "the server-side cancellation");
      expect(first.peer).toBe(livePeer);
      releaseFirst.resolve();
      seen!.release.resolve();
      expect(await live).toMatchObject({ text: "b" });
    } finally {
      client.close();
    }
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

describe("ServerCall.peer", () => {
  /** A grpc-js surface call whose getPeer() answers `peers` in turn; `inner`: its intercepting call (`call.call`). */
  function surfaceCall(peers: string[], inner?: object): SurfaceCall & { peerReads: number } {
    const fake = {
      peerReads: 0,
      metadata: undefined,
      cancelled: false,
      call: inner,
      getDeadline: () => Infinity,
      getPeer() {
        return peers[Math.min(fake.peerReads++, peers.length - 1)];
      },
      sendMetadata() {},
      on() {},
      off() {},
    };
    return fake as unknown as SurfaceCall & { peerReads: number };
  }
  const served = {} as ServedMethod;
  const withInfo = (info: object) => ({ getConnectionInfo: () => info });

  it("formats grpc-js' connection record as host:port (IPv6 in brackets), without calling getPeer()", () => {
    const cases: Array<[object, string]> = [
      [{ remoteAddress: "127.0.0.1", remotePort: 5301 }, "127.0.0.1:5301"],
      [{ remoteAddress: "::1", remotePort: 80 }, "[::1]:80"],
      [{ remoteAddress: "::ffff:10.1.2.3", remotePort: 9 }, "[::ffff:10.1.2.3]:9"],
      [{ remoteAddress: "/run/app.sock", remotePort: undefined }, "/run/app.sock"],
      [{ remoteAddress: undefined, remotePort: undefined }, "unknown"],
    ];
    for (const [info, peer] of cases) {
      const call = surfaceCall(["wrong"], withInfo(info));
      const ctx = new ServerCall(call, served);
      expect(ctx.peer).toBe(peer);
      expect(ctx.peer).toBe(peer);
      expect(call.peerReads).toBe(0);
    }
  });

  it("without a connection record (another grpc-js), reads getPeer() once, when the call starts", () => {
    for (const inner of [undefined, {}, { getConnectionInfo: "not a function" }, withInfo(null as unknown as object)]) {
      const call = surfaceCall(["10.0.0.7:443", "unknown"], inner);
      const ctx = new ServerCall(call, served);
      expect(call.peerReads).toBe(1);
      expect(ctx.peer).toBe("10.0.0.7:443");
      expect(call.peerReads).toBe(1);
    }
  });
});

describe("HandlerContext.peer over IPv6 loopback", { timeout: 10_000 }, () => {
  it("is [::1]:port, which the telemetry's peer parser splits into address and port", async () => {
    const gen = await loadEcho();
    let peer: string | undefined;
    const s = await startServer((server) =>
      gen.addPartialEchoService(server, {
        async echo(req: { text: string }, ctx: HandlerContext) {
          peer = ctx.peer;
          return { text: req.text };
        },
      }),
    {}, "[::1]");
    const client = new gen.EchoServiceClient(s.address, insecure(), { propagate: false });
    try {
      expect(await client.echo({ text: "v6" })).toMatchObject({ text: "v6" });
      expect(peer).toMatch(/^\[::1\]:\d+$/);
      const parsed = parsePeer(peer!);
      expect(parsed?.address).toBe("::1");
      expect(parsed?.port).toBe(Number(/:(\d+)$/.exec(peer!)![1]));
    } finally {
      client.close();
      await s.stop();
    }
  });
});
