import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GrpcError, Status, type CallResult, type ClientHook } from "@grpckit/runtime";
import { methodDefinition } from "@grpckit/runtime";
import { noClientHooks } from "../templates/runtime/hooks.js";
import { RequestReplay } from "../templates/runtime/request-replay.js";
import { insecure } from "./support/grpc.js";
import { loadFaults, loadFaultsPb, startFaultServer, type FaultsModule } from "./support/fault-server.js";

/**
 * The generated client when the user's own code misbehaves or asks for the
 * unusual: hooks and callbacks that throw at every stage (header, response,
 * trailer, end, attempt), deadlines beyond what grpc-js can carry, a
 * handler fanning out to many downstream calls, a stream of empty requests
 * against the retry buffer. Each call settles once with a GrpcError, every
 * hook ends once, no attempt starts after the end, nothing is unhandled or
 * uncaught. Real grpc-js servers on 127.0.0.1 (the faults fixture).
 */

type Res = { id: string; index: number };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const settle = (p: Promise<unknown>): Promise<{ v?: unknown; e?: unknown }> => p.then((v) => ({ v }), (e) => ({ e }));

const unhandled: unknown[] = [];
const uncaught: unknown[] = [];
const warnings: Error[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
const onUncaught = (err: unknown) => uncaught.push(err);
const onWarning = (w: Error) => warnings.push(w);

describe("client calls when hooks, callbacks and options misbehave", () => {
  let gen: FaultsModule;
  beforeAll(async () => {
    gen = await loadFaults();
    process.on("unhandledRejection", onUnhandled);
    process.on("uncaughtException", onUncaught);
    process.on("warning", onWarning);
  });
  afterAll(() => {
    process.off("unhandledRejection", onUnhandled);
    process.off("uncaughtException", onUncaught);
    process.off("warning", onWarning);
  });
  afterEach(() => {
    unhandled.length = 0;
    uncaught.length = 0;
    warnings.length = 0;
  });

  it("server stream and bidi: a response hook that throws while next() is pending fails the iteration", { timeout: 5000 }, async () => {
    const server = await startFaultServer(gen, () => undefined, {
      impl: {
        async *list() {
          await sleep(50); // the consumer's next() is pending when the message arrives
          yield { id: "l", index: 0 };
        },
        async *chat(reqs: AsyncIterable<{ id: string }>) {
          for await (const r of reqs) {
            await sleep(50);
            yield { id: r.id, index: 0 };
          }
        },
      },
    });
    const hook: ClientHook = () => ({
      response: () => {
        throw new GrpcError(Status.DATA_LOSS, "response rejected by a hook");
      },
    });
    const client = new gen.FaultServiceClient(server.address, insecure(), { hooks: [hook] });
    for (const open of [() => client.list({ id: "l" }), () => client.chat([{ id: "c" }])]) {
      const got: Res[] = [];
      let error: unknown;
      try {
        for await (const m of open() as AsyncIterable<Res>) got.push(m);
      } catch (e) {
        error = e;
      }
      await sleep(20);
      expect(got).toEqual([]);
      expect(error).toBeInstanceOf(GrpcError);
      expect((error as GrpcError).code).toBe(Status.DATA_LOSS);
      expect(unhandled).toEqual([]);
    }
    client.close();
    await server.stop();
  });

  it("a trailer hook that throws: the call fails locally and the end hook still runs, once (success and failure paths)", { timeout: 5000 }, async () => {
    const server = await startFaultServer(gen, () => undefined);
    const ends: CallResult[] = [];
    const hook: ClientHook = () => ({
      trailer: () => {
        throw new Error("trailer hook broke");
      },
      end: (r) => ends.push(r),
    });
    const client = new gen.FaultServiceClient(server.address, insecure(), { hooks: [hook] });
    const ok = await settle(client.pay({ id: "ok" })); // success path
    const failed = await settle(client.pay({ id: "late" }, { timeoutMs: 0 })); // failure path
    expect(ok.e).toBeInstanceOf(GrpcError);
    expect(failed.e).toBeInstanceOf(GrpcError);
    expect(ends).toHaveLength(2);
    client.close();
    await server.stop();
  });

  it("an inner hook whose end() throws does not stop the outer hooks' end()", { timeout: 5000 }, async () => {
    const server = await startFaultServer(gen, () => undefined);
    const ends: string[] = [];
    const outer: ClientHook = () => ({ end: () => ends.push("outer") });
    const inner: ClientHook = () => ({
      end: () => {
        ends.push("inner");
        throw new Error("inner end hook broke");
      },
    });
    const client = new gen.FaultServiceClient(server.address, insecure(), { hooks: [outer, inner] });
    await settle(client.pay({ id: "h" }));
    expect(ends).toEqual(["inner", "outer"]);
    client.close();
    await server.stop();
  });

  it("an attempt hook that aborts the call: the attempt is not sent", { timeout: 5000 }, async () => {
    const server = await startFaultServer(gen, () => undefined, { delayMs: 50 });
    const ac = new AbortController();
    const hook: ClientHook = () => ({ attempt: () => ac.abort() }); // e.g. a budget hook
    const client = new gen.FaultServiceClient(server.address, insecure(), { hooks: [hook] });
    const r = await settle(client.pay({ id: "c" }, { signal: ac.signal }));
    expect((r.e as GrpcError).code).toBe(Status.CANCELLED);
    await sleep(300);
    expect(server.counter.total).toBe(0);
    client.close();
    await server.stop();
  });

  it("a header hook or an onHeader callback that throws fails the call, nothing is uncaught", { timeout: 5000 }, async () => {
    const server = await startFaultServer(gen, () => undefined, { delayMs: 20 });
    const hook: ClientHook = () => ({
      header: () => {
        throw new Error("header hook broke");
      },
    });
    const hooked = new gen.FaultServiceClient(server.address, insecure(), { hooks: [hook] });
    const plain = new gen.FaultServiceClient(server.address, insecure());
    const a = await settle(hooked.pay({ id: "d" }));
    const b = await settle(
      plain.pay(
        { id: "e" },
        {
          onHeader: () => {
            throw new Error("onHeader broke");
          },
        },
      ),
    );
    await sleep(20);
    expect(uncaught).toEqual([]);
    expect(a.e).toBeInstanceOf(GrpcError);
    expect(b.e).toBeInstanceOf(GrpcError);
    hooked.close();
    plain.close();
    await server.stop();
  });

  it("timeoutMs: 1e15 counts as no deadline: the call succeeds, nothing unhandled", { timeout: 5000 }, async () => {
    const server = await startFaultServer(gen, () => undefined);
    const client = new gen.FaultServiceClient(server.address, insecure());
    const r = await Promise.race([settle(client.pay({ id: "far" }, { timeoutMs: 1e15 })), sleep(2000).then(() => "hung")]);
    expect(r).not.toBe("hung");
    expect((r as { e?: unknown }).e).toBeUndefined();
    expect(unhandled).toEqual([]);
    client.close();
    await server.stop();
  });

  it("timeoutMs: 2 ** 31 (about 25 days, past a grpc-js server's int32 grpc-timeout) counts as no deadline and succeeds", { timeout: 5000 }, async () => {
    const server = await startFaultServer(gen, () => undefined);
    const client = new gen.FaultServiceClient(server.address, insecure());
    const r = await settle(client.pay({ id: "month" }, { timeoutMs: 2 ** 31 }));
    expect(r.e).toBeUndefined();
    expect(server.counter.total).toBe(1);
    client.close();
    await server.stop();
  });

  it("a handler fanning out to 20 concurrent downstream calls: no MaxListenersExceededWarning", { timeout: 5000 }, async () => {
    const down = await startFaultServer(gen, () => undefined, { delayMs: 50 });
    const downClient = new gen.FaultServiceClient(down.address, insecure());
    const up = await startFaultServer(gen, () => undefined, {
      impl: {
        async relay(req: { id: string }) {
          await Promise.all(Array.from({ length: 20 }, (_, i) => downClient.get({ id: `${req.id}-${i}` })));
          return { id: req.id };
        },
      },
    });
    const client = new gen.FaultServiceClient(up.address, insecure());
    await client.relay({ id: "fan" });
    await sleep(20);
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning").map((w) => w.message)).toEqual([]);
    for (const c of [client, downClient]) c.close();
    await up.stop();
    await down.stop();
  });

  it("retry buffer: each kept request counts its 5-byte frame, so 100 000 empty requests overflow it instead of staying buffered", { timeout: 10000 }, async () => {
    const pb = await loadFaultsPb();
    const chat = methodDefinition(pb.FaultService.method.chat); // the idempotent bidi's real serializer
    const replay = new RequestReplay(
      (function* () {
        for (let i = 0; i < 100_000; i++) yield {};
      })(),
      { schema: pb.ReqSchema, serialize: chat.requestSerialize as (m: unknown) => Buffer, hooks: noClientHooks, keepBytes: 256 * 1024 },
    );
    for (let i = 0; ; i++) if ((await replay.get(i)) === null) break;
    const kept = (replay as unknown as { kept: Buffer[] }).kept.length;
    expect(replay.overflowed).toBe(true);
    expect(kept).toBeLessThanOrEqual(Math.ceil((256 * 1024) / 5) + 1); // the limit, counted with the frame header of each (empty) message
    replay.close();
  });
});

