import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Status } from "@grpckit/runtime";
import { describeCallContract } from "./support/call-contract.js";
import { callKind, createBehaviourImpl, type SeenCall } from "./support/echo-calls.js";
import { deferred, loadEcho, readRestInOrder, settled, startEcho, streamMaxAhead, waitFor, type EchoPair } from "./support/echo.js";

describeCallContract("expand");
describeCallContract("collect");
describeCallContract("chat");

describe("a stream failing after its first response", () => {
  let pair: EchoPair;
  const seen: SeenCall[] = [];
  beforeAll(async () => {
    pair = await startEcho(await loadEcho(), createBehaviourImpl(seen));
  });
  afterAll(() => pair?.close());

  for (const kind of ["expand", "chat"] as const) {
    it(`${kind}: delivers the response, then the status; the headers came before it, the trailers after`, async () => {
      const out = await callKind(pair.client, kind, { metadata: { "x-req": "r", "x-behaviour": "fail-mid" } });
      expect(out.responses).toEqual(["a"]);
      expect(out.error).toMatchObject({ code: Status.ABORTED, rawMessage: "failed mid-stream" });
      expect(out.headers).toHaveLength(1);
      expect(out.headers[0]?.get("x-echo")).toEqual(["r"]);
      expect(out.error?.metadata.get("x-trailer")).toEqual(["t"]);
      expect(out.error?.metadata.get("x-echo")).toEqual([]);
    });
  }
});

/** 64 KiB: large enough that HTTP/2 flow control (64 KiB default stream window) matters. */
const payload = new Uint8Array(64 * 1024).fill(7);
const total = 400; // 25 MiB in all
const maxAhead = streamMaxAhead;

describe("backpressure on long streams", () => {
  let pair: EchoPair;
  let produced = 0;
  let received = 0;
  const release = deferred();
  beforeAll(async () => {
    pair = await startEcho(await loadEcho(), {
      async *expand(req: { count: number }) {
        for (let i = 0; i < req.count; i++) {
          produced++;
          yield { index: i, payload };
        }
      },
      async collect(reqs: AsyncIterable<{ count: number; payload: Uint8Array }>) {
        const order: number[] = [];
        for await (const r of reqs) {
          received++;
          order.push(r.count);
          if (received === 3) await release.promise;
        }
        const inOrder = order.every((v, i) => v === i);
        return { count: order.length, joined: inOrder ? "in order" : "out of order" };
      },
    });
  });
  afterAll(() => pair?.close());

  it("server streaming: the handler does not run ahead of a slow consumer", async () => {
    const it = pair.client.expand({ count: total })[Symbol.asyncIterator]();
    const consumed = 5;
    for (let i = 0; i < consumed; i++) expect((await it.next()).value.index).toBe(i);
    const stalled = await settled(() => produced);
    expect(stalled - consumed).toBeLessThanOrEqual(maxAhead);
    expect(await readRestInOrder(it, consumed, payload.length)).toBe(total);
    expect(produced).toBe(total);
  });

  it("client streaming: the client does not pull its requests far ahead of a slow handler", async () => {
    let sent = 0;
    async function* requests() {
      for (let i = 0; i < total; i++) {
        sent++;
        yield { count: i, payload };
      }
    }
    const result = pair.client.collect(requests());
    await waitFor(() => received === 3, 5000, "the handler to read 3 requests");
    const stalled = await settled(() => sent);
    expect(stalled - received).toBeLessThanOrEqual(maxAhead);
    release.resolve();
    expect(await result).toMatchObject({ count: total, joined: "in order" });
    expect(sent).toBe(total);
  });
});
