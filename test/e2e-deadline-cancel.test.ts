import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { GrpcError, Status, type HandlerContext } from "@grpckit/runtime";
import { echoKinds, type EchoKind } from "./support/echo-calls.js";
import { aborted, deferred, loadEcho, sleep, startEcho, waitFor, type EchoModule, type EchoPair } from "./support/echo.js";
import { startServer, insecure } from "./support/grpc.js";
import { RawH2Connection } from "./support/raw-h2.js";

/**
 * The handler's abort reason for an expired deadline. The runtime takes a
 * cancellation (the client's RST_STREAM at its deadline) arriving within 20 ms
 * of the server's copy of the deadline as DEADLINE_EXCEEDED. Under heavy CPU
 * load the server can learn of a call so late that its copy of the deadline
 * is more than that after the client's (observable here as `lagMs`): only
 * then may the reason be CANCELLED.
 */
function expectDeadlineReason(reason: unknown, serverDeadline: number | undefined, clientDeadline: number): void {
  expect(reason).toBeInstanceOf(GrpcError);
  const lagMs = (serverDeadline ?? Infinity) - clientDeadline;
  if (lagMs <= 15) expect((reason as GrpcError).codeName).toBe("DEADLINE_EXCEEDED");
  else expect(["DEADLINE_EXCEEDED", "CANCELLED"]).toContain((reason as GrpcError).codeName);
}

/** One request "a", then wait (without ending the request stream) until `stop` aborts. */
async function* requestsUntil(stop: AbortSignal) {
  yield { text: "a" };
  await aborted(stop);
}

/** Make a call of `kind` that only ends when the server or the call options end it. */
async function openCall(client: EchoModule, kind: EchoKind, options: object, stop: AbortSignal): Promise<void> {
  switch (kind) {
    case "echo":
      return void (await client.echo({ text: "a" }, options));
    case "expand":
      for await (const _ of client.expand({ text: "a" }, options));
      return;
    case "collect":
      return void (await client.collect(requestsUntil(stop), options));
    case "chat":
      for await (const _ of client.chat(requestsUntil(stop), options));
      return;
  }
}

/** Handlers that announce each call's context and then wait for its signal; streams send one response first. */
function createWaitingImpl(onCall: (ctx: HandlerContext) => void) {
  return {
    async echo(_req: unknown, ctx: HandlerContext) {
      onCall(ctx);
      throw await aborted(ctx.signal);
    },
    async *expand(_req: unknown, ctx: HandlerContext) {
      onCall(ctx);
      yield { text: "first" };
      await aborted(ctx.signal);
    },
    // A cancelled request stream throws CANCELLED in the loop; a deadline ends the call the same way.
    async collect(reqs: AsyncIterable<unknown>, ctx: HandlerContext) {
      onCall(ctx);
      for await (const _ of reqs);
      throw await aborted(ctx.signal);
    },
    async *chat(reqs: AsyncIterable<unknown>, ctx: HandlerContext) {
      onCall(ctx);
      for await (const _ of reqs) yield { text: "first" };
      await aborted(ctx.signal);
    },
  };
}

describe("cancellation and deadlines reach the handler", { timeout: 5000 }, () => {
  let pair: EchoPair;
  let calls: HandlerContext[] = [];
  let started = deferred<HandlerContext>();
  const stop = new AbortController();
  beforeAll(async () => {
    pair = await startEcho(
      await loadEcho(),
      createWaitingImpl((ctx) => {
        calls.push(ctx);
        started.resolve(ctx);
      }),
    );
  });
  afterAll(async () => {
    stop.abort();
    await pair?.close();
  });
  const reset = () => {
    calls = [];
    started = deferred<HandlerContext>();
  };

  for (const kind of echoKinds) {
    it(`${kind}: aborting the client's signal fails the call with CANCELLED and aborts the handler's signal with CANCELLED`, async () => {
      reset();
      const ac = new AbortController();
      const call = openCall(pair.client, kind, { signal: ac.signal }, stop.signal).catch((e: unknown) => e);
      const ctx = await started.promise;
      expect(ctx.signal.aborted).toBe(false);
      expect(ctx.deadline).toBeUndefined();
      expect(ctx.timeRemainingMs()).toBeUndefined();
      ac.abort();
      const err = await call;
      expect(err).toBeInstanceOf(GrpcError);
      expect((err as GrpcError).code).toBe(Status.CANCELLED);
      const reason = await aborted(ctx.signal);
      expect(reason).toBeInstanceOf(GrpcError);
      expect((reason as GrpcError).code).toBe(Status.CANCELLED);
    });

    it(`${kind}: an expired timeoutMs gives DEADLINE_EXCEEDED on the client and in the handler's signal`, async () => {
      reset();
      const clientDeadline = Date.now() + 150;
      const err = await openCall(pair.client, kind, { timeoutMs: 150 }, stop.signal).catch((e: unknown) => e);
      expect(Date.now()).toBeGreaterThanOrEqual(clientDeadline - 1);
      expect(err).toBeInstanceOf(GrpcError);
      expect((err as GrpcError).code).toBe(Status.DEADLINE_EXCEEDED);
      const ctx = calls[0] as HandlerContext;
      expect(ctx.deadline).toBeGreaterThanOrEqual(clientDeadline - 5);
      expect(ctx.deadline).toBeLessThanOrEqual(clientDeadline + 500);
      expectDeadlineReason(await aborted(ctx.signal), ctx.deadline, clientDeadline);
    });
  }

  it("an absolute deadline (Date or epoch ms) reaches the handler as context.deadline; the earlier of deadline and timeoutMs wins", async () => {
    reset();
    for (const options of [
      () => ({ deadline: new Date(Date.now() + 120) }),
      () => ({ deadline: Date.now() + 120 }),
      () => ({ deadline: Date.now() + 60_000, timeoutMs: 120 }),
      () => ({ deadline: Date.now() + 120, timeoutMs: 60_000 }),
    ]) {
      const expected = Date.now() + 120;
      const err = await pair.client.echo({}, options()).catch((e: unknown) => e);
      expect((err as GrpcError).code).toBe(Status.DEADLINE_EXCEEDED);
      const ctx = calls.at(-1) as HandlerContext;
      expect(ctx.deadline).toBeGreaterThanOrEqual(expected - 5);
      expect(ctx.deadline).toBeLessThanOrEqual(expected + 500);
      expectDeadlineReason(await aborted(ctx.signal), ctx.deadline, expected);
    }
    expect(calls).toHaveLength(4);
  });

  it("many concurrent expiring calls abort their handler with DEADLINE_EXCEEDED (CANCELLED only if the server learned of the call late)", async () => {
    reset();
    const clientDeadlines: number[] = [];
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => {
        clientDeadlines[i] = Date.now() + 50 + (i % 7);
        return pair.client.echo({}, { deadline: clientDeadlines[i], metadata: { "x-i": String(i) } }).catch((e: GrpcError) => e.code);
      }),
    );
    expect(new Set(results)).toEqual(new Set([Status.DEADLINE_EXCEEDED]));
    await waitFor(() => calls.length === 30 && calls.every((c) => c.signal.aborted), 2000, "30 aborted handlers");
    for (const c of calls) expectDeadlineReason(c.signal.reason, c.deadline, clientDeadlines[Number(c.requestMetadata.get("x-i")[0])] as number);
  });

  it("timeRemainingMs counts down to the deadline", async () => {
    reset();
    // 1 s leaves room for a loaded machine between the call's start and the handler's first line.
    const call = pair.client.echo({}, { timeoutMs: 1000 }).catch(() => undefined);
    const ctx = await started.promise;
    const left = ctx.timeRemainingMs() as number;
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(1000);
    await call;
    await aborted(ctx.signal);
    // The client's own deadline ends the call; its RST_STREAM may abort the handler (CANCELLED)
    // a few ms before the server's deadline, which the server reckons from its own clock.
    const afterAbort = ctx.timeRemainingMs() as number;
    expect(afterAbort).toBeLessThan(left);
    await new Promise((resolve) => setTimeout(resolve, afterAbort + 5));
    expect(ctx.timeRemainingMs()).toBe(0);
  });
});

// A grpc-js client cancels with Node's Http2Stream.close(), which half-closes (END_STREAM)
// just before RST_STREAM. The runtime delivers the end of a request stream one turn late
// (streams.ts `confirmEnd`), so the cancellation wins: the handler's loop throws CANCELLED
// and a handler that returns right after its loop never commits a cancelled upload.
describe("a client-cancelled request stream never ends cleanly in the handler", { timeout: 15_000 }, () => {
  type Outcome = { received: number; ended: "normally" | "threw"; error?: unknown; abortedAtEnd: boolean };
  let outcomes: Outcome[] = [];
  let receivedThree = deferred();
  let pair: EchoPair;
  const drain = async (reqs: AsyncIterable<unknown>, ctx: HandlerContext) => {
    let received = 0;
    try {
      for await (const _ of reqs) if (++received === 3) receivedThree.resolve();
      outcomes.push({ received, ended: "normally", abortedAtEnd: ctx.signal.aborted });
    } catch (error) {
      outcomes.push({ received, ended: "threw", error, abortedAtEnd: ctx.signal.aborted });
      throw error;
    }
  };
  beforeAll(async () => {
    pair = await startEcho(await loadEcho(), {
      async collect(reqs: AsyncIterable<unknown>, ctx: HandlerContext) {
        await drain(reqs, ctx);
        return { count: 1 }; // a handler that commits the upload right after its loop
      },
      async *chat(reqs: AsyncIterable<unknown>, ctx: HandlerContext) {
        await drain(reqs, ctx);
        yield { text: "done" };
      },
    });
  });
  afterAll(() => pair?.close());

  /** Each of 10 calls: 3 messages read, then the handler's loop threw GrpcError CANCELLED with its signal aborted. */
  function expectTenCancelledAfterThree(): void {
    expect(outcomes.map((o) => o.received)).toEqual(Array(10).fill(3));
    expect(outcomes.map((o) => o.ended)).toEqual(Array(10).fill("threw"));
    for (const o of outcomes) {
      expect(o.error).toBeInstanceOf(GrpcError);
      expect((o.error as GrpcError).code).toBe(Status.CANCELLED);
      expect(o.abortedAtEnd).toBe(true);
    }
  }

  async function* threeThenWait(stop: AbortSignal) {
    for (const text of ["a", "b", "c"]) yield { text };
    await aborted(stop);
  }

  for (const kind of ["collect", "chat"] as const) {
    it(`${kind}: AbortSignal after 3 messages -> the handler's for await throws GrpcError CANCELLED (10 calls)`, async () => {
      outcomes = [];
      for (let i = 0; i < 10; i++) {
        receivedThree = deferred();
        const ac = new AbortController();
        const stop = new AbortController();
        const call =
          kind === "collect"
            ? pair.client.collect(threeThenWait(stop.signal), { signal: ac.signal })
            : (async () => {
                for await (const _ of pair.client.chat(threeThenWait(stop.signal), { signal: ac.signal }));
              })();
        const settled = call.then(() => "resolved", (e: unknown) => e);
        await receivedThree.promise;
        ac.abort();
        const err = await settled;
        stop.abort();
        expect((err as GrpcError).code).toBe(Status.CANCELLED);
        await waitFor(() => outcomes.length === i + 1, 3000, "the handler's loop to end");
      }
      expectTenCancelledAfterThree();
    });
  }

  // Frame sequences grpc-js never sends, from a raw HTTP/2 client: a bare RST_STREAM, and
  // END_STREAM with RST_STREAM in one TCP segment (both frames reach the server in one read).
  const cuts = {
    "RST_STREAM CANCEL without END_STREAM": (h2: RawH2Connection, id: number) => h2.reset(id),
    "END_STREAM and RST_STREAM CANCEL in one TCP write": (h2: RawH2Connection, id: number) => h2.endAndReset(id),
  };
  const requestA = Uint8Array.of(0x0a, 0x01, 0x61); // EchoRequest { text: "a" }: field 1, length-delimited
  for (const kind of ["collect", "chat"] as const) {
    for (const [how, cut] of Object.entries(cuts)) {
      it(`${kind}: ${how} after 3 messages -> the handler's for await throws GrpcError CANCELLED (10 calls)`, async () => {
        outcomes = [];
        const h2 = await RawH2Connection.open(pair.address);
        try {
          for (let i = 0; i < 10; i++) {
            receivedThree = deferred();
            const id = h2.startCall(`/demo.v1.EchoService/${kind === "collect" ? "Collect" : "Chat"}`, [requestA, requestA, requestA]);
            await receivedThree.promise;
            cut(h2, id);
            await waitFor(() => outcomes.length === i + 1, 3000, "the handler's loop to end");
          }
        } finally {
          h2.close();
        }
        expectTenCancelledAfterThree();
        // The server stays up and serves the next call.
        expect((await pair.client.collect([{ text: "a" }])).count).toBe(1);
      });
    }
  }

  it("a request stream the client ends normally still ends normally (and its response arrives)", async () => {
    outcomes = [];
    const summary = await pair.client.collect([{ text: "a" }, { text: "b" }, { text: "c" }]);
    expect(summary.count).toBe(1);
    expect(outcomes).toEqual([{ received: 3, ended: "normally", abortedAtEnd: false }]);
  });
});

describe("leaving a server stream early", { timeout: 5000 }, () => {
  let pair: EchoPair;
  let produced = 0;
  let finallyRan = false;
  let ctxOf: HandlerContext | undefined;
  beforeAll(async () => {
    pair = await startEcho(await loadEcho(), {
      async *expand(_req: unknown, ctx: HandlerContext) {
        ctxOf = ctx;
        try {
          for (;;) {
            produced++;
            yield { index: produced };
            await sleep(2);
          }
        } finally {
          finallyRan = true;
        }
      },
    });
  });
  afterAll(() => pair?.close());

  it("breaking out of for await cancels the call: the handler's signal aborts with CANCELLED and its generator's finally runs", async () => {
    let seen = 0;
    for await (const r of pair.client.expand({})) {
      expect(r.index).toBe(++seen);
      if (seen === 3) break;
    }
    const reason = await aborted((await vi.waitFor(() => ctxOf as HandlerContext)).signal);
    expect((reason as GrpcError).code).toBe(Status.CANCELLED);
    await waitFor(() => finallyRan, 2000, "the generator's finally block");
    const stopped = produced;
    await sleep(50);
    expect(produced).toBe(stopped);
  });
});

describe("server shutdown", { timeout: 5000 }, () => {
  for (const kind of echoKinds) {
    it(`${kind}: forceShutdown() aborts the running handler's signal and fails the client's call`, async () => {
      const gen = await loadEcho();
      const started = deferred<HandlerContext>();
      const s = await startServer((server) => gen.addPartialEchoService(server, createWaitingImpl(started.resolve)));
      const client = new gen.EchoServiceClient(s.address, insecure());
      const stop = new AbortController();
      try {
        const call = openCall(client, kind, {}, stop.signal).catch((e: unknown) => e);
        const ctx = await started.promise;
        s.server.forceShutdown();
        const reason = await aborted(ctx.signal);
        expect(reason).toBeInstanceOf(GrpcError);
        expect((reason as GrpcError).code).toBe(Status.CANCELLED);
        const err = await call;
        expect(err).toBeInstanceOf(GrpcError);
        expect([Status.UNAVAILABLE, Status.CANCELLED, Status.INTERNAL]).toContain((err as GrpcError).code);
      } finally {
        stop.abort();
        client.close();
      }
    });
  }
});

describe("timers", { timeout: 5000 }, () => {
  it("every timer created for a call's deadline is cleared when the call ends (success, error, cancel)", async () => {
    const hourMs = 3_600_000;
    const pair = await startEcho(await loadEcho(), {
      async echo(req: { failCode: number }) {
        if (req.failCode !== 0) throw new GrpcError(req.failCode, "fail");
        return {};
      },
      async *expand(req: { count: number }) {
        for (let i = 0; i < req.count; i++) yield { index: i };
      },
      async collect(reqs: AsyncIterable<unknown>) {
        for await (const _ of reqs);
        return {};
      },
      async *chat(reqs: AsyncIterable<unknown>, ctx: HandlerContext) {
        for await (const _ of reqs) yield {};
        await aborted(ctx.signal);
      },
    });
    const live = new Set<unknown>();
    let created = 0;
    const realSet = globalThis.setTimeout;
    const realClear = globalThis.clearTimeout;
    const isDeadlineTimer = (ms: unknown) => typeof ms === "number" && ms > hourMs - 60_000 && ms <= hourMs;
    const setSpy = vi.spyOn(globalThis, "setTimeout").mockImplementation(((fn: () => void, ms?: number, ...args: unknown[]) => {
      const t = realSet(fn, ms, ...args);
      if (isDeadlineTimer(ms)) {
        created++;
        live.add(t);
      }
      return t;
    }) as typeof setTimeout);
    const clearSpy = vi.spyOn(globalThis, "clearTimeout").mockImplementation(((t: NodeJS.Timeout) => {
      live.delete(t);
      realClear(t);
    }) as typeof clearTimeout);
    try {
      const o = { timeoutMs: hourMs };
      await pair.client.echo({}, o);
      await pair.client.echo({ failCode: Status.NOT_FOUND }, o).catch(() => undefined);
      for await (const _ of pair.client.expand({ count: 3 }, o));
      await pair.client.collect([{}, {}], o);
      const ac = new AbortController();
      for await (const _ of pair.client.chat([{}], { ...o, signal: ac.signal })) ac.abort();
    } catch (err) {
      expect((err as GrpcError).code).toBe(Status.CANCELLED);
    } finally {
      await sleep(50);
      setSpy.mockRestore();
      clearSpy.mockRestore();
      await pair.close();
    }
    // Client and server each start deadline timers for every call: the spy must have seen them.
    expect(created).toBeGreaterThanOrEqual(5);
    expect(live.size).toBe(0);
  });
});
