import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, Metadata, type ServiceError } from "@grpc/grpc-js";
import { GrpcError, Status } from "@grpckit/runtime";
import { describeCallContract } from "./support/call-contract.js";
import { loadEcho, startEcho, type EchoPair } from "./support/echo.js";
import { insecure } from "./support/grpc.js";

describeCallContract("echo");

/** Send raw bytes as the request of a unary or client-streaming method, with a plain grpc-js client. */
function rawUnary(address: string, path: string, body: Buffer): Promise<ServiceError | undefined> {
  const client = new Client(address, insecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, body, new Metadata(), {}, (err) => {
      client.close();
      resolve(err ?? undefined);
    });
  });
}

function rawClientStream(address: string, path: string, bodies: Buffer[]): Promise<ServiceError | undefined> {
  const client = new Client(address, insecure());
  return new Promise((resolve) => {
    const call = client.makeClientStreamRequest(path, (b: Buffer) => b, (b: Buffer) => b, new Metadata(), {}, (err) => {
      client.close();
      resolve(err ?? undefined);
    });
    for (const b of bodies) call.write(b);
    call.end();
  });
}

describe("a malformed request stays contained", () => {
  let pair: EchoPair;
  let handled = 0;
  const reported: unknown[] = [];
  beforeAll(async () => {
    const gen = await loadEcho();
    pair = await startEcho(
      gen,
      {
        async echo(req: { text: string }) {
          handled++;
          return { text: req.text };
        },
        async collect(reqs: AsyncIterable<{ text: string }>) {
          handled++;
          let n = 0;
          for await (const _ of reqs) n++;
          return { count: n };
        },
      },
      { onInternalError: (e: unknown) => reported.push(e) },
    );
  });
  afterAll(() => pair?.close());

  const malformed: Record<string, Buffer> = {
    "a truncated varint": Buffer.from([0x10, 0xff, 0xff]),
    "an invalid wire type": Buffer.from([0x0f, 0x01]),
    "a length beyond the message": Buffer.from([0x0a, 0x7f, 0x61]),
    "invalid UTF-8 in a string field": Buffer.from([0x0a, 0x02, 0xc3, 0x28]),
  };

  for (const [name, bytes] of Object.entries(malformed)) {
    it(`answers ${name} with an error status and keeps serving`, async () => {
      const before = handled;
      const err = await rawUnary(pair.address, "/demo.v1.EchoService/Echo", bytes);
      expect(err?.code).toBe(Status.INTERNAL);
      expect(err?.details).toMatch(/deserializ/i);
      expect(handled).toBe(before);
      // The server still answers well-formed calls on a new and on the existing channel.
      expect((await pair.client.echo({ text: "still here" })).text).toBe("still here");
    });
  }

  it("answers a malformed message in the middle of a client stream and keeps serving", async () => {
    const good = Buffer.from([0x0a, 0x01, 0x61]);
    const err = await rawClientStream(pair.address, "/demo.v1.EchoService/Collect", [good, Buffer.from([0x0f, 0x01]), good]);
    expect(err?.code).toBe(Status.INTERNAL);
    expect(await pair.client.collect([{ text: "x" }, { text: "y" }])).toMatchObject({ count: 2 });
    expect(reported).toEqual([]);
  });
});

describe("unary specifics", () => {
  let pair: EchoPair;
  beforeAll(async () => {
    const gen = await loadEcho();
    pair = await startEcho(gen, {
      async echo(req: { text: string; failCode: number }, ctx: { responseHeader: Metadata; sendHeader(): void }) {
        ctx.responseHeader.set("x-early", "1");
        ctx.sendHeader();
        if (req.failCode !== 0) throw new GrpcError(req.failCode, "after headers");
        return { text: req.text };
      },
    });
  });
  afterAll(() => pair?.close());

  it("sends headers explicitly sent with sendHeader() as headers even when the handler then fails", async () => {
    const headers: Metadata[] = [];
    const trailers: Metadata[] = [];
    const err = await pair.client
      .echo({ text: "x", failCode: Status.ABORTED }, { onHeader: (h: Metadata) => headers.push(h), onTrailer: (t: Metadata) => trailers.push(t) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrpcError);
    expect(err).toMatchObject({ code: Status.ABORTED, rawMessage: "after headers" });
    expect(headers.map((h) => h.get("x-early"))).toEqual([["1"]]);
    expect(trailers).toHaveLength(1);
    expect(trailers[0]?.get("x-early")).toEqual([]);
  });

  it("rejects with GrpcError for every status code the handler throws", async () => {
    for (const code of [Status.CANCELLED, Status.INVALID_ARGUMENT, Status.NOT_FOUND, Status.RESOURCE_EXHAUSTED, Status.UNAVAILABLE, Status.DATA_LOSS]) {
      await expect(pair.client.echo({ text: "x", failCode: code })).rejects.toMatchObject({ code, rawMessage: "after headers" });
    }
  });
});
