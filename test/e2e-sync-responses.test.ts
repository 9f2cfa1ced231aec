// Streaming handlers that return a synchronous Iterable (an array, a
// `function*`) instead of an AsyncIterable: the same contract (order,
// backpressure, cancellation running the handler's `finally`, errors as
// statuses), on a real grpc-js server on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GrpcError, Status } from "@grpckit/runtime";
import { loadEcho, readRestInOrder, settled, startEcho, streamMaxAhead, waitFor, type EchoPair } from "./support/echo.js";

/** 64 KiB: large enough that HTTP/2 flow control (64 KiB default stream window) matters. */
const payload = new Uint8Array(64 * 1024).fill(7);
const maxAhead = streamMaxAhead;

interface Produced {
  count: number;
  finallyRan: boolean;
}

/** A sync generator of `count` responses of `payload`, recording what it produced and whether its `finally` ran. */
function* responses(count: number, state: Produced): Generator<{ index: number; payload: Uint8Array }> {
  try {
    for (let i = 0; i < count; i++) {
      state.count++;
      yield { index: i, payload };
    }
  } finally {
    state.finallyRan = true;
  }
}

async function collect(stream: AsyncIterable<{ index: number; text: string }>): Promise<{ items: { index: number; text: string }[]; error?: unknown }> {
  const items: { index: number; text: string }[] = [];
  try {
    for await (const r of stream) items.push({ index: r.index, text: r.text });
    return { items };
  } catch (error) {
    return { items, error };
  }
}

describe("streaming handlers returning a synchronous Iterable", () => {
  let pair: EchoPair;
  const states: Produced[] = [];
  beforeAll(async () => {
    pair = await startEcho(await loadEcho(), {
      expand(req: { count: number; text: string; failCode: number }) {
        if (req.text === "array") return Array.from({ length: req.count }, (_, index) => ({ index, text: `m${index}` }));
        if (req.text === "fail") {
          return (function* () {
            yield { index: 0, text: "first" };
            throw new GrpcError(req.failCode, "sync generator failed");
          })();
        }
        if (req.text === "bug") {
          return (function* () {
            yield { index: 0, text: "first" };
            throw new Error("local detail that must not reach the client");
          })();
        }
        const state: Produced = { count: 0, finallyRan: false };
        states.push(state);
        return responses(req.count, state);
      },
      chat() {
        return [{ index: 0, text: "x" }, { index: 1, text: "y" }];
      },
    }, { onInternalError: () => {} });
  });
  afterAll(() => pair?.close());

  it("server streaming: an array is delivered in order, then OK", async () => {
    const out = await collect(pair.client.expand({ text: "array", count: 50 }));
    expect(out.error).toBeUndefined();
    expect(out.items).toEqual(Array.from({ length: 50 }, (_, index) => ({ index, text: `m${index}` })));
  });

  it("server streaming: an empty array ends the call with OK and no message", async () => {
    const out = await collect(pair.client.expand({ text: "array", count: 0 }));
    expect(out).toEqual({ items: [] });
  });

  it("bidi: an array returned without reading the requests is delivered, then OK", async () => {
    async function* requests() {
      yield { text: "a" };
    }
    const out = await collect(pair.client.chat(requests()));
    expect(out).toEqual({ items: [{ index: 0, text: "x" }, { index: 1, text: "y" }] });
  });

  it("a GrpcError thrown by the generator after one message: the message, then that status", async () => {
    const out = await collect(pair.client.expand({ text: "fail", failCode: Status.RESOURCE_EXHAUSTED }));
    expect(out.items).toEqual([{ index: 0, text: "first" }]);
    expect(out.error).toMatchObject({ code: Status.RESOURCE_EXHAUSTED, rawMessage: "sync generator failed" });
  });

  it("any other error thrown by the generator: INTERNAL \"internal error\", the local text stays local", async () => {
    const out = await collect(pair.client.expand({ text: "bug" }));
    expect(out.items).toEqual([{ index: 0, text: "first" }]);
    expect(out.error).toMatchObject({ code: Status.INTERNAL, rawMessage: "internal error" });
  });

  it("backpressure: the generator does not run ahead of a slow consumer, and every message arrives", async () => {
    const total = 300;
    const before = states.length;
    const it = pair.client.expand({ text: "gen", count: total })[Symbol.asyncIterator]();
    const consumed = 5;
    for (let i = 0; i < consumed; i++) expect((await it.next()).value.index).toBe(i);
    const state = states[before] as Produced;
    const stalled = await settled(() => state.count);
    expect(stalled - consumed).toBeLessThanOrEqual(maxAhead);
    expect(stalled).toBeLessThan(total);
    expect(await readRestInOrder(it, consumed, payload.length)).toBe(total);
    expect(state).toEqual({ count: total, finallyRan: true });
  });

  it("the client cancels mid-stream: the generator stops where backpressure held it and its finally runs", async () => {
    const before = states.length;
    const ac = new AbortController();
    const it = pair.client.expand({ text: "gen", count: 10_000 }, { signal: ac.signal })[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) expect((await it.next()).value.index).toBe(i);
    const state = states[before] as Produced;
    await settled(() => state.count);
    ac.abort();
    // Messages already buffered on the client may still be read; then the call fails with CANCELLED.
    let error: unknown;
    for (let i = 0; i <= maxAhead && error === undefined; i++) await it.next().catch((e: unknown) => (error = e));
    expect(error).toMatchObject({ code: Status.CANCELLED });
    await waitFor(() => state.finallyRan, 5000, "the generator's finally to run");
    expect(state.count).toBeLessThanOrEqual(3 + maxAhead);
  });

  it("the server stays up and serves after the failures above", async () => {
    const out = await collect(pair.client.expand({ text: "array", count: 2 }));
    expect(out).toEqual({ items: [{ index: 0, text: "m0" }, { index: 1, text: "m1" }] });
  });
});
