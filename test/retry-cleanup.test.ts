import { getEventListeners } from "node:events";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GrpcError, Status, type HandlerContext } from "@grpckit/runtime";
import type { Metadata } from "@grpc/grpc-js";
import { insecure } from "./support/grpc.js";
import { waitFor } from "./support/echo.js";
import { loadFaults, startFaultServer, unavailable, type FaultsModule, withPolicy } from "./support/fault-server.js";

/**
 * Every path of a call (success, failure, cancel or deadline during backoff,
 * hedging losers) leaves no runtime timer and no listener on the caller's
 * AbortSignal behind; `onTrailer` is called once per call. Timers are
 * counted with a setTimeout / clearTimeout spy that keeps those created by
 * the runtime's client files.
 */

const clientTimerFiles = /templates[\\/]runtime[\\/](deadline|retry[\w-]*|client[\w-]*|call-setup|call-engine|request-replay)\.ts/;

/** Wrap setTimeout / clearTimeout: `live` holds the runtime client timers not yet fired or cleared. */
function trackTimers() {
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const live = new Set<unknown>();
  const stats = { created: 0 };
  globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const caller = (new Error().stack ?? "").split("\n")[2] ?? "";
    const t = realSet(() => {
      live.delete(t);
      fn(...args);
    }, ms);
    if (clientTimerFiles.test(caller)) {
      stats.created++;
      live.add(t);
    }
    return t;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((t: Parameters<typeof clearTimeout>[0]) => {
    live.delete(t);
    realClear(t);
  }) as typeof clearTimeout;
  return {
    live,
    stats,
    restore() {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    },
  };
}

type Tracker = ReturnType<typeof trackTimers>;
const abortListeners = (s: AbortSignal) => getEventListeners(s, "abort").length;

describe("no timers or listeners left behind", () => {
  let gen: FaultsModule;
  let timers: Tracker;
  beforeAll(async () => {
    gen = await loadFaults();
  });
  beforeEach(() => {
    timers = trackTimers();
  });
  afterEach(() => timers.restore());

  async function scenario(decide: Parameters<typeof startFaultServer>[1], clientOptions: object, call: (client: FaultsModule, signal: AbortSignal) => Promise<unknown>, opts: { abortAfterMs?: number; delayMs?: number } = {}) {
    const server = await startFaultServer(gen, decide, { delayMs: opts.delayMs });
    const client = new gen.FaultServiceClient(server.address, insecure(), withPolicy({ retryThrottling: false, ...clientOptions }));
    const ac = new AbortController();
    if (opts.abortAfterMs !== undefined) setTimeout(() => ac.abort(), opts.abortAfterMs);
    const outcome = await call(client, ac.signal).then(
      (v) => ({ ok: true as const, v }),
      (e: GrpcError) => ({ ok: false as const, e }),
    );
    // right when the call settled: no runtime timer, no listener on the caller's signal
    const liveAtEnd = timers.live.size;
    const listenersAtEnd = abortListeners(ac.signal);
    client.close();
    await server.stop();
    return { outcome, liveAtEnd, listenersAtEnd, created: timers.stats.created };
  }

  it("success after retries", async () => {
    const r = await scenario((_m, _id, n) => (n < 3 ? unavailable() : undefined), { retry: { initialBackoffMs: 5, maxBackoffMs: 10 } }, (c, signal) => c.put({ id: "s" }, { signal }));
    expect(r.outcome.ok).toBe(true);
    expect(r.created).toBeGreaterThan(0);
    expect([r.liveAtEnd, r.listenersAtEnd]).toEqual([0, 0]);
  });

  it("failure once the attempts are used up", async () => {
    const r = await scenario(() => unavailable(), { retry: { maxAttempts: 3, initialBackoffMs: 5, maxBackoffMs: 10 } }, (c, signal) => c.get({ id: "f" }, { signal }));
    expect(r.outcome).toMatchObject({ ok: false, e: { code: Status.UNAVAILABLE } });
    expect(r.created).toBeGreaterThan(0);
    expect([r.liveAtEnd, r.listenersAtEnd]).toEqual([0, 0]);
  });

  it("cancel during backoff", async () => {
    const r = await scenario(() => unavailable(), { retry: { initialBackoffMs: 10_000, maxBackoffMs: 10_000 } }, (c, signal) => c.get({ id: "c" }, { signal }), { abortAfterMs: 100 });
    expect(r.outcome).toMatchObject({ ok: false, e: { code: Status.CANCELLED } });
    expect(r.created).toBe(1);
    expect([r.liveAtEnd, r.listenersAtEnd]).toEqual([0, 0]);
  });

  it("deadline during backoff: no sleep outlives the deadline", async () => {
    const r = await scenario(
      () => unavailable(),
      { retry: { maxAttempts: 50, initialBackoffMs: 20, maxBackoffMs: 40 } },
      (c, signal) => c.get({ id: "d" }, { signal, timeoutMs: 150 }),
      { delayMs: 5 },
    );
    expect(r.outcome.ok).toBe(false);
    expect(r.created).toBeGreaterThan(0);
    expect([r.liveAtEnd, r.listenersAtEnd]).toEqual([0, 0]);
  });

  it("hedging: the losers are cancelled and the hedging timer cleared", async () => {
    const r = await scenario(() => undefined, { hedging: { maxAttempts: 3, hedgingDelayMs: 100 } }, (c, signal) => c.get({ id: "h" }, { signal }), { delayMs: 150 });
    expect(r.outcome).toMatchObject({ ok: true, v: { id: "h" } });
    expect(r.created).toBeGreaterThanOrEqual(2); // hedging timers were armed; the one for attempt 3 was pending at the win
    expect([r.liveAtEnd, r.listenersAtEnd]).toEqual([0, 0]);
  });

  it("client stream and bidi retries", async () => {
    const failFirst = (n: number) => n === 1;
    const executions = { upload: 0, chat: 0 };
    const server = await startFaultServer(gen, () => undefined, {
      impl: {
        async upload(reqs: AsyncIterable<{ id: string }>) {
          const n = ++executions.upload;
          for await (const _ of reqs) if (failFirst(n)) throw unavailable();
          return { id: "u" };
        },
        async *chat(reqs: AsyncIterable<{ id: string }>) {
          const n = ++executions.chat;
          for await (const r of reqs) {
            if (failFirst(n)) throw unavailable();
            yield { id: r.id };
          }
        },
      },
    });
    const client = new gen.FaultServiceClient(server.address, insecure(), withPolicy({ retry: { initialBackoffMs: 5, maxBackoffMs: 10 } }));
    const ac = new AbortController();
    await client.upload([{ id: "a" }, { id: "b" }], { signal: ac.signal });
    for await (const _ of client.chat([{ id: "a" }], { signal: ac.signal }));
    expect(executions).toEqual({ upload: 2, chat: 2 });
    expect(timers.stats.created).toBeGreaterThan(0);
    expect([timers.live.size, abortListeners(ac.signal)]).toEqual([0, 0]);
    client.close();
    await server.stop();
  });
});

describe("onTrailer is called once per call, with the final attempt's trailers", () => {
  let gen: FaultsModule;
  beforeAll(async () => {
    gen = await loadFaults();
  });

  it("unary, server stream, client stream and bidi, with a retry each", async () => {
    const executions = new Map<string, number>();
    const next = (k: string) => {
      const n = (executions.get(k) ?? 0) + 1;
      executions.set(k, n);
      return n;
    };
    const mark = (ctx: HandlerContext, n: number) => ctx.responseTrailer.set("x-execution", String(n));
    const server = await startFaultServer(gen, () => undefined, {
      impl: {
        async put(req: { id: string }, ctx: HandlerContext) {
          const n = next("put");
          mark(ctx, n);
          if (n === 1) throw unavailable();
          return { id: req.id };
        },
        async *list(req: { id: string }, ctx: HandlerContext) {
          const n = next("list");
          mark(ctx, n);
          if (n === 1) throw unavailable();
          yield { id: req.id, index: 0 };
          yield { id: req.id, index: 1 };
        },
        async upload(reqs: AsyncIterable<{ id: string }>, ctx: HandlerContext) {
          const n = next("upload");
          mark(ctx, n);
          for await (const _ of reqs) if (n === 1) throw unavailable();
          return { id: "u" };
        },
        async pay(_req: { id: string }, ctx: HandlerContext) {
          mark(ctx, next("pay"));
          throw new GrpcError(Status.FAILED_PRECONDITION, "declined");
        },
        async *chat(reqs: AsyncIterable<{ id: string }>, ctx: HandlerContext) {
          const n = next("chat");
          mark(ctx, n);
          for await (const r of reqs) {
            if (n === 1) throw unavailable();
            yield { id: r.id };
          }
        },
      },
    });
    const client = new gen.FaultServiceClient(server.address, insecure(), withPolicy({ retry: { initialBackoffMs: 5, maxBackoffMs: 10 } }));
    const seen: Record<string, string[][]> = { put: [], list: [], upload: [], chat: [] };
    const onTrailer = (k: string) => (t: Metadata) => seen[k]!.push(t.get("x-execution") as string[]);
    await client.put({ id: "p" }, { onTrailer: onTrailer("put") });
    for await (const _ of client.list({ id: "l", count: 2 }, { onTrailer: onTrailer("list") }));
    await client.upload([{ id: "a" }], { onTrailer: onTrailer("upload") });
    for await (const _ of client.chat([{ id: "a" }], { onTrailer: onTrailer("chat") }));
    expect(seen).toEqual({ put: [["2"]], list: [["2"]], upload: [["2"]], chat: [["2"]] });

    // a failed call (Pay has no idempotency_level: one attempt): once, with that attempt's trailers
    const failed: Metadata[] = [];
    const err = await client.pay({ id: "x" }, { onTrailer: (t: Metadata) => failed.push(t) }).then(
      () => "resolved",
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GrpcError);
    expect((err as GrpcError).code).toBe(Status.FAILED_PRECONDITION);
    await waitFor(() => failed.length > 0, 1000, "onTrailer of the failed call");
    expect(failed.map((t) => t.get("x-execution"))).toEqual([["1"]]);
    client.close();
    await server.stop();
  });
});
