import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GrpcError, Status, pushbackError, type CallResult, type ClientHook, type HandlerContext } from "@grpckit/runtime";
import type { Metadata } from "@grpc/grpc-js";
import { insecure } from "./support/grpc.js";
import { waitFor } from "./support/echo.js";
import { loadFaults, startFaultServer, unavailable, withPolicy, type FaultsModule } from "./support/fault-server.js";

/**
 * The per-call engine (issue 8): every ending settles the caller, ends the
 * hooks and starts no attempt afterwards; streams deliver every message
 * received before their status. Real grpc-js servers on 127.0.0.1; server
 * executions are counted per logical call.
 */

type Res = { id: string; index: number };
const slowBackoff = { initialBackoffMs: 10_000, maxBackoffMs: 10_000 };

/** A hook recording every call's end and its attempts. */
function recorder() {
  const ends: CallResult[] = [];
  const attempts: number[] = [];
  const hook: ClientHook = () => ({ end: (r) => ends.push(r), attempt: (a) => attempts.push(a.attempt) });
  return { ends, attempts, hook };
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

describe("one call engine", () => {
  let gen: FaultsModule;
  beforeAll(async () => {
    gen = await loadFaults();
    process.on("unhandledRejection", onUnhandled);
  });
  afterAll(() => {
    process.off("unhandledRejection", onUnhandled);
    expect(unhandled).toEqual([]);
  });

  it("client.close() during a retry backoff rejects at once with UNAVAILABLE, ends the hooks, leaves nothing unhandled", async () => {
    const server = await startFaultServer(gen, () => unavailable());
    const rec = recorder();
    const client = new gen.FaultServiceClient(server.address, insecure(), withPolicy({ retry: slowBackoff, hooks: [rec.hook] }));
    const call = client.get({ id: "close" }).catch((e: unknown) => e);
    await waitFor(() => server.counter.total === 1, 5000, "the first attempt");
    await new Promise((r) => setTimeout(r, 20)); // the attempt's status arrived: the call sleeps in its 10 s backoff
    const closedAt = Date.now();
    client.close();
    const err = await call;
    expect(Date.now() - closedAt).toBeLessThan(1000);
    expect(err).toBeInstanceOf(GrpcError);
    expect((err as GrpcError).code).toBe(Status.UNAVAILABLE);
    expect(rec.ends.map((e) => e.code)).toEqual([Status.UNAVAILABLE]);
    expect(server.counter.byId.get("get:close")).toBe(1);
    // a call after close() fails the same way, as a GrpcError (not grpc-js's plain Error)
    const after = await client.get({ id: "later" }).catch((e: unknown) => e);
    expect(after).toBeInstanceOf(GrpcError);
    expect((after as GrpcError).code).toBe(Status.UNAVAILABLE);
    expect(rec.ends).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 20));
    expect(unhandled).toEqual([]);
    await server.stop();
  });

  it("return() on a server stream during a retry backoff: no attempt starts afterwards", async () => {
    const server = await startFaultServer(gen, () => undefined, {
      impl: {
        // eslint-disable-next-line require-yield
        async *list(req: { id: string }) {
          server.counter.count(`list:${req.id}`);
          throw pushbackError(Status.UNAVAILABLE, "busy", { retryAfterMs: 300 }); // an exact backoff of 300 ms
        },
      },
    });
    const rec = recorder();
    const client = new gen.FaultServiceClient(server.address, insecure(), withPolicy({ retry: {}, hooks: [rec.hook] }));
    const it = client.list({ id: "r", count: 3 })[Symbol.asyncIterator]();
    const pending = it.next().then(
      (r: IteratorResult<Res>) => r,
      (e: unknown) => e,
    );
    await waitFor(() => server.counter.byId.get("list:r") === 1, 5000, "the first attempt");
    await new Promise((r) => setTimeout(r, 30)); // in the backoff now
    await expect(it.return!()).resolves.toEqual({ done: true, value: undefined });
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    await new Promise((r) => setTimeout(r, 500)); // past the backoff
    expect(server.counter.byId.get("list:r")).toBe(1);
    expect(rec.attempts).toEqual([1]);
    expect(rec.ends.map((e) => e.code)).toEqual([Status.CANCELLED]);
    client.close();
    await server.stop();
  });

  it("return() with a pending next() settles it done (server stream and bidi); throw() ends the call and rethrows", async () => {
    const server = await startFaultServer(gen, () => undefined, {
      impl: {
        async *list(_req: unknown, ctx: HandlerContext) {
          yield { id: "first", index: 0 };
          await new Promise((r) => ctx.signal.addEventListener("abort", r, { once: true }));
        },
        async *chat(reqs: AsyncIterable<unknown>, ctx: HandlerContext) {
          for await (const _ of reqs) break;
          yield { id: "hello", index: 0 };
          await new Promise((r) => ctx.signal.addEventListener("abort", r, { once: true }));
        },
      },
    });
    const rec = recorder();
    const client = new gen.FaultServiceClient(server.address, insecure(), { hooks: [rec.hook] });
    async function* requests() {
      yield { id: "a" };
      await new Promise((r) => setTimeout(r, 5000));
    }
    for (const open of [() => client.list({ id: "p" }), () => client.chat(requests())]) {
      const it = open()[Symbol.asyncIterator]();
      expect((await it.next()).done).toBe(false);
      const pending = it.next();
      await new Promise((r) => setTimeout(r, 20));
      await it.return!();
      await expect(pending).resolves.toEqual({ done: true, value: undefined });
    }
    const it = client.list({ id: "t" })[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    const boom = new Error("consumer gave up");
    await expect(it.throw!(boom)).rejects.toBe(boom);
    await expect(it.next()).resolves.toEqual({ done: true, value: undefined });
    await waitFor(() => rec.ends.length === 3, 2000, "three calls to end");
    expect(rec.ends.map((e) => e.code)).toEqual([Status.CANCELLED, Status.CANCELLED, Status.CANCELLED]);
    client.close();
    await server.stop();
  });

  it("return() before the first next(): nothing is sent, the hooks started with the iterator end (CANCELLED)", async () => {
    const server = await startFaultServer(gen, () => undefined);
    const rec = recorder();
    const client = new gen.FaultServiceClient(server.address, insecure(), { hooks: [rec.hook] });
    const it = client.list({ id: "never", count: 2 })[Symbol.asyncIterator]();
    await expect(it.return!()).resolves.toEqual({ done: true, value: undefined });
    await expect(it.next()).resolves.toEqual({ done: true, value: undefined });
    expect(rec.ends.map((e) => e.code)).toEqual([Status.CANCELLED]);
    expect(rec.attempts).toEqual([]);
    expect(server.counter.total).toBe(0);
    client.close();
    await server.stop();
  });

  it("a server stream that sends 10 messages then ABORTED: a slow reader gets all 10, then the error", async () => {
    const server = await startFaultServer(gen, () => undefined, {
      impl: {
        async *list(req: { id: string }) {
          server.counter.count(`list:${req.id}`);
          for (let i = 0; i < 10; i++) yield { id: req.id, index: i };
          throw new GrpcError(Status.ABORTED, "conflict");
        },
      },
    });
    const client = new gen.FaultServiceClient(server.address, insecure());
    const got: number[] = [];
    let error: unknown;
    try {
      for await (const m of client.list({ id: "ten" }) as AsyncIterable<Res>) {
        got.push(m.index);
        await new Promise((r) => setTimeout(r, 5));
      }
    } catch (e) {
      error = e;
    }
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((error as GrpcError).code).toBe(Status.ABORTED);
    expect(server.counter.byId.get("list:ten")).toBe(1);
    client.close();
    await server.stop();
  });

  it("concurrent next() calls on a server stream each get one result, in order: the messages, the error, then done", async () => {
    const server = await startFaultServer(gen, () => undefined, {
      impl: {
        async *list(req: { id: string }) {
          server.counter.count(`list:${req.id}`);
          for (let i = 0; i < 3; i++) yield { id: req.id, index: i };
          throw new GrpcError(Status.ABORTED, "conflict");
        },
      },
    });
    const rec = recorder();
    const client = new gen.FaultServiceClient(server.address, insecure(), { hooks: [rec.hook] });
    const it = client.list({ id: "many" })[Symbol.asyncIterator]();
    const settle = (p: Promise<IteratorResult<Res>>) => p.then((r) => (r.done ? "done" : r.value.index), (e: unknown) => (e instanceof GrpcError ? Status[e.code] : e));
    const reads = Array.from({ length: 6 }, () => settle(it.next()));
    expect(await Promise.all(reads)).toEqual([0, 1, 2, "ABORTED", "done", "done"]);
    expect(rec.ends.map((e) => e.code)).toEqual([Status.ABORTED]);
    expect(server.counter.byId.get("list:many")).toBe(1);
    client.close();
    await server.stop();
  });

  it("grpc-previous-rpc-attempts is sent on every retry and every hedge (gRFC A6)", async () => {
    const seen: (string | undefined)[] = [];
    const hedged: (string | undefined)[] = [];
    const header = (ctx: HandlerContext) => ctx.requestMetadata.get("grpc-previous-rpc-attempts")[0]?.toString();
    const server = await startFaultServer(gen, () => undefined, {
      impl: {
        async put(req: { id: string }, ctx: HandlerContext) {
          seen.push(header(ctx));
          if (seen.length < 3) throw unavailable();
          return { id: req.id };
        },
        async get(req: { id: string }, ctx: HandlerContext) {
          hedged.push(header(ctx));
          await new Promise((r) => setTimeout(r, hedged.length < 3 ? 1000 : 0));
          return { id: req.id };
        },
      },
    });
    const retrying = new gen.FaultServiceClient(server.address, insecure(), withPolicy({ retry: { initialBackoffMs: 1, maxBackoffMs: 2 } }));
    await retrying.put({ id: "x" });
    expect(seen).toEqual([undefined, "1", "2"]);
    const hedging = new gen.FaultServiceClient(server.address, insecure(), withPolicy({ hedging: { maxAttempts: 3, hedgingDelayMs: 20 } }));
    await hedging.get({ id: "h" });
    expect(hedged).toEqual([undefined, "1", "2"]);
    for (const c of [retrying, hedging]) c.close();
    await server.stop();
  });

  it("timeoutMs -1 rejects with a TypeError; a hook or interceptor that throws rejects / throws from the iteration, never synchronously", async () => {
    const server = await startFaultServer(gen, () => undefined);
    const client = new gen.FaultServiceClient(server.address, insecure());
    let p: Promise<unknown> | undefined;
    expect(() => (p = client.get({ id: "n" }, { timeoutMs: -1 }))).not.toThrow();
    await expect(p).rejects.toBeInstanceOf(TypeError);
    const it = client.list({ id: "n" }, { timeoutMs: -1 })[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toBeInstanceOf(TypeError);

    const rec = recorder();
    const throwing = new gen.FaultServiceClient(server.address, insecure(), {
      hooks: [
        rec.hook,
        () => {
          throw new Error("hook broke at start");
        },
      ],
    });
    let q: Promise<unknown> | undefined;
    expect(() => (q = throwing.get({ id: "h" }))).not.toThrow();
    await expect(q).rejects.toBeInstanceOf(GrpcError);
    const sit = throwing.list({ id: "h" })[Symbol.asyncIterator]();
    await expect(sit.next()).rejects.toBeInstanceOf(GrpcError);
    expect(rec.ends).toHaveLength(2); // the hook started before the throwing one was ended
    // an interceptor that throws (a local failure of grpc-js's call path) becomes a GrpcError too
    const intercepted = new gen.FaultServiceClient(server.address, insecure(), {
      interceptors: [
        () => {
          throw new Error("interceptor broke");
        },
      ],
    });
    const err = await intercepted.get({ id: "i" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrpcError);
    expect(server.counter.total).toBe(0);
    for (const c of [client, throwing, intercepted]) c.close();
    await server.stop();
  });

  it("onHeader sees the committed attempt's headers; onTrailer runs once", async () => {
    const server = await startFaultServer(gen, (_m, _id, n) => (n === 1 ? unavailable() : undefined));
    const client = new gen.FaultServiceClient(server.address, insecure(), withPolicy({ retry: { initialBackoffMs: 1, maxBackoffMs: 2 } }));
    const headers: Metadata[] = [];
    const trailers: Metadata[] = [];
    await client.get({ id: "o" }, { onHeader: (h: Metadata) => headers.push(h), onTrailer: (t: Metadata) => trailers.push(t) });
    expect(headers).toHaveLength(1);
    expect(trailers).toHaveLength(1);
    expect(server.counter.byId.get("get:o")).toBe(2);
    client.close();
    await server.stop();
  });
});
