import { beforeAll, describe, expect, it } from "vitest";
import { GrpcError, Status, type AttemptInfo, type HandlerContext } from "@grpckit/runtime";
import { insecure } from "./support/grpc.js";
import { waitFor } from "./support/echo.js";
import { loadFaults, startFaultServer, unavailable, type FaultsModule, withPolicy } from "./support/fault-server.js";
import { RequestReplay } from "../templates/runtime/request-replay.js";
import { toBinary } from "@bufbuild/protobuf";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";

/**
 * gRFC A6 retries of client-streaming and bidi calls: the client keeps the
 * requests sent so far (up to its retry buffer) and replays them on a new
 * attempt while the call has not committed (no response header or message
 * yet, buffer not exceeded). Real grpc-js servers on 127.0.0.1 record what
 * each execution received.
 */

type Req = { id: string; count: number; payload: Uint8Array };
const fast = { initialBackoffMs: 1, maxBackoffMs: 4 };
const tick = () => new Promise((r) => setTimeout(r, 2));

/** What one execution of a streaming handler received. */
interface Execution {
  readonly n: number;
  readonly ids: string[];
}

/** A request stream of `count` messages that counts how often it was pulled and whether it was closed. */
function countedRequests(count: number, payloadBytes = 0) {
  const stats = { pulled: 0, closed: 0 };
  async function* gen() {
    try {
      for (let i = 0; i < count; i++) {
        await tick(); // keep pulling while the server already failed the first attempt
        stats.pulled++;
        yield { id: `m${i}`, payload: new Uint8Array(payloadBytes) };
      }
    } finally {
      stats.closed++;
    }
  }
  return { stats, requests: gen() };
}

describe("client-streaming and bidi retries (gRFC A6)", () => {
  let gen: FaultsModule;
  beforeAll(async () => {
    gen = await loadFaults();
  });

  /** Upload / UploadOnce / Chat handlers; `failAt(n, received)` says when execution n fails (before any response). */
  async function startStreamServer(failAt: (n: number, received: number) => boolean, chatRespondsFirst = false) {
    const executions: Execution[] = [];
    let n = 0;
    const collect = async (reqs: AsyncIterable<Req>) => {
      const e: Execution = { n: ++n, ids: [] };
      executions.push(e);
      for await (const r of reqs) {
        e.ids.push(r.id);
        if (failAt(e.n, e.ids.length)) throw unavailable();
      }
      if (failAt(e.n, Infinity)) throw unavailable();
      return { id: e.ids.join(","), index: e.ids.length };
    };
    const server = await startFaultServer(gen, () => undefined, {
      impl: {
        upload: collect,
        uploadOnce: collect,
        async *chat(reqs: AsyncIterable<Req>, _ctx: HandlerContext) {
          const e: Execution = { n: ++n, ids: [] };
          executions.push(e);
          for await (const r of reqs) {
            e.ids.push(r.id);
            if (chatRespondsFirst) yield { id: r.id, index: e.ids.length - 1 };
            if (failAt(e.n, e.ids.length)) throw unavailable();
          }
          if (!chatRespondsFirst) for (const [i, id] of e.ids.entries()) yield { id, index: i };
        },
      },
    });
    return { ...server, executions };
  }

  it("a client stream failing with UNAVAILABLE before any response is retried; the retry replays every message exactly once", async () => {
    const server = await startStreamServer((n, received) => n === 1 && received === 3);
    const attempts: AttemptInfo[] = [];
    const client = new gen.FaultServiceClient(server.address, insecure(), withPolicy({ retry: fast, hooks: [() => ({ attempt: (a: AttemptInfo) => attempts.push(a) })] }));
    const { stats, requests } = countedRequests(10);
    const res = await client.upload(requests);
    const all = Array.from({ length: 10 }, (_, i) => `m${i}`);
    expect(server.executions).toHaveLength(2);
    expect(server.executions[0]?.ids).toEqual(["m0", "m1", "m2"]);
    expect(server.executions[1]?.ids).toEqual(all);
    expect(res).toMatchObject({ id: all.join(","), index: 10 });
    expect(stats).toEqual({ pulled: 10, closed: 1 }); // the caller's iterable was pulled once per message
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2]);
    expect(attempts[1]?.previous?.code).toBe(Status.UNAVAILABLE);
    client.close();
    await server.stop();
  });

  it("a client stream whose requests exceed the retry buffer is committed and not retried; within the buffer it is", async () => {
    // every first execution reads all 5 requests (5 x ~600 bytes) and then fails
    const server = await startStreamServer((n, received) => n === 1 && received === Infinity);
    const small = new gen.FaultServiceClient(server.address, insecure(), withPolicy({ retry: fast, retryBufferBytes: 1024 }));
    const one = countedRequests(5, 600);
    const err = await small.upload(one.requests).catch((e: GrpcError) => e);
    expect(err).toBeInstanceOf(GrpcError);
    expect(err.code).toBe(Status.UNAVAILABLE);
    expect(server.executions).toHaveLength(1);
    expect(one.stats.pulled).toBe(5);

    const two = countedRequests(5, 600);
    const server2 = await startStreamServer((n, received) => n === 1 && received === Infinity);
    const big2 = new gen.FaultServiceClient(server2.address, insecure(), withPolicy({ retry: fast, retryBufferBytes: 4096 }));
    await expect(big2.upload(two.requests)).resolves.toMatchObject({ index: 5 });
    expect(server2.executions.map((e) => e.ids.length)).toEqual([5, 5]);
    expect(two.stats.pulled).toBe(5);
    for (const c of [small, big2]) c.close();
    await Promise.all([server.stop(), server2.stop()]);
  });

  it("a client stream without idempotency_level is never retried by policy", async () => {
    const server = await startStreamServer((n, received) => n === 1 && received === 2);
    const client = new gen.FaultServiceClient(server.address, insecure(), withPolicy({ retry: fast }));
    const { stats, requests } = countedRequests(4);
    await expect(client.uploadOnce(requests)).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    expect(server.executions).toHaveLength(1);
    await waitFor(() => stats.closed === 1, 2000, "the request iterable to be closed once the call failed");
    client.close();
    await server.stop();
  });

  it("a bidi stream failing before its first response is retried with the requests replayed once", async () => {
    const server = await startStreamServer((n, received) => n === 1 && received === 2);
    const client = new gen.FaultServiceClient(server.address, insecure(), withPolicy({ retry: fast }));
    const { stats, requests } = countedRequests(6);
    const got: string[] = [];
    for await (const r of client.chat(requests)) got.push(r.id);
    const all = Array.from({ length: 6 }, (_, i) => `m${i}`);
    expect(got).toEqual(all);
    expect(server.executions.map((e) => e.ids)).toEqual([["m0", "m1"], all]);
    expect(stats).toEqual({ pulled: 6, closed: 1 });
    client.close();
    await server.stop();
  });

  it("a bidi stream is not retried after the first response message", async () => {
    const server = await startStreamServer((n, received) => n === 1 && received === 2, true);
    const client = new gen.FaultServiceClient(server.address, insecure(), withPolicy({ retry: fast }));
    const { requests } = countedRequests(6);
    const got: string[] = [];
    const err = await (async () => {
      for await (const r of client.chat(requests)) got.push(r.id);
    })().catch((e: GrpcError) => e);
    expect(err).toBeInstanceOf(GrpcError);
    expect(err?.code).toBe(Status.UNAVAILABLE);
    expect(got).toEqual(["m0", "m1"]);
    expect(server.executions).toHaveLength(1);
    client.close();
    await server.stop();
  });

  it("a request stream that throws fails the call with its error and is not retried", async () => {
    const server = await startStreamServer(() => false);
    const client = new gen.FaultServiceClient(server.address, insecure(), withPolicy({ retry: { ...fast, retryableCodes: [Status.UNAVAILABLE, Status.UNKNOWN] } }));
    async function* broken() {
      yield { id: "a" };
      throw new Error("source broke");
    }
    const err = await client.upload(broken()).catch((e: GrpcError) => e);
    expect(err).toBeInstanceOf(GrpcError);
    expect(err.code).toBe(Status.UNKNOWN);
    expect(err.cause).toMatchObject({ message: "source broke" });
    expect(server.executions.length).toBeLessThanOrEqual(1);
    client.close();
    await server.stop();
  });
});

describe("RequestReplay (the per-call retry buffer)", () => {
  const noHooks = { attempt() {}, request() {}, response() {}, header() {}, end() {} };
  const serialize = (m: unknown) => Buffer.from(toBinary(StringValueSchema, m as never));
  function replayOf(source: Iterable<unknown> | AsyncIterable<unknown>, keepBytes: number | undefined, hooks = noHooks) {
    return new RequestReplay(source, { schema: StringValueSchema, serialize, hooks, keepBytes });
  }

  it("shares one pull between attempts waiting for the same request and replays kept ones", async () => {
    const { stats, requests } = countedRequests(3);
    const r = replayOf(requests, 1 << 20);
    const [a, b] = await Promise.all([r.get(0), r.get(0)]);
    expect(a).toBe(b);
    expect(stats.pulled).toBe(1);
    expect(await r.get(1)).not.toBeNull();
    expect(await r.get(0)).toBe(a); // replayed from the buffer, no pull
    expect(await r.get(2)).not.toBeNull();
    expect(await r.get(3)).toBeNull();
    expect(stats).toEqual({ pulled: 3, closed: 1 });
    expect(r.overflowed).toBe(false);
  });

  it("commits (overflowed) once the kept bytes exceed the limit, and keeps nothing without a retry policy", async () => {
    const r = replayOf([{ value: "aaaa" }, { value: "bbbb" }, { value: "cccc" }], 20);
    await r.get(0);
    expect(r.overflowed).toBe(false);
    await r.get(1);
    expect(r.overflowed).toBe(true); // 2 x (6 bytes + a 5-byte frame header) > 20
    await r.get(2);
    await expect(r.get(2)).rejects.toThrow(/no longer kept/);
    expect(replayOf([], undefined).overflowed).toBe(true);
  });

  it("keeps a pull failure for every later attempt and closes an unfinished iterable on close()", async () => {
    const failing = replayOf(
      (function* () {
        yield { value: "a" };
        throw new Error("boom");
      })(),
      1024,
    );
    await failing.get(0);
    await expect(failing.get(1)).rejects.toThrow("boom");
    await expect(failing.get(1)).rejects.toThrow("boom");
    expect(failing.failed).toBe(true);
    const { stats, requests } = countedRequests(5);
    const open = replayOf(requests, 1024);
    await open.get(0);
    open.close();
    await waitFor(() => stats.closed === 1, 1000, "the iterable to be closed");
    expect(await open.get(1)).toBeNull();
    expect(stats.pulled).toBe(1);
  });
});
