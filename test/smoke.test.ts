import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { generateFixtures } from "./support/fixture.js";
import { insecure, startServer } from "./support/grpc.js";
import { GrpcError, Status } from "@grpckit/runtime";

describe("generated echo service (smoke)", () => {
  let gen: typeof import("../tmp/smoke-typings/demo/v1/echo_grpckit.js");
  let stop: () => Promise<void>;
  let address: string;
  beforeAll(async () => {
    const out = generateFixtures(["demo/v1/echo.proto"]);
    gen = await import(`${out}/demo/v1/echo_grpckit.ts`);
    const s = await startServer((server) =>
      gen.addPartialEchoService(server, {
        async echo(req) {
          if (req.failCode !== 0) throw new GrpcError(req.failCode, "asked to fail");
          return { text: req.text };
        },
        async *expand(req) {
          for (let i = 0; i < req.count; i++) yield { text: req.text, index: i };
        },
        async collect(reqs) {
          const texts: string[] = [];
          for await (const r of reqs) texts.push(r.text);
          return { count: texts.length, joined: texts.join(",") };
        },
        async *chat(reqs) {
          for await (const r of reqs) yield { text: r.text.toUpperCase() };
        },
      }),
    );
    stop = s.stop;
    address = s.address;
  });
  afterAll(() => stop?.());

  it("serves every method kind", async () => {
    const client = new gen.EchoServiceClient(address, insecure());
    expect((await client.echo({ text: "hi" })).text).toBe("hi");
    const streamed: number[] = [];
    for await (const r of client.expand({ text: "x", count: 3 })) streamed.push(r.index);
    expect(streamed).toEqual([0, 1, 2]);
    expect(await client.collect([{ text: "a" }, { text: "b" }])).toMatchObject({ count: 2, joined: "a,b" });
    const chat: string[] = [];
    for await (const r of client.chat([{ text: "a" }, { text: "b" }])) chat.push(r.text);
    expect(chat).toEqual(["A", "B"]);
    await expect(client.echo({ text: "x", failCode: Status.NOT_FOUND })).rejects.toMatchObject({ code: Status.NOT_FOUND, rawMessage: "asked to fail" });
    await expect(client.missing({})).rejects.toMatchObject({ code: Status.UNIMPLEMENTED });
    client.close();
  });
});
