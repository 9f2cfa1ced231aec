/**
 * The generated server when the user's own code misbehaves: a hook's `end`
 * or `onInternalError` that throws, a thrown GrpcError whose code is not a
 * failure, reserved `grpc-*` trailers, a handler that drives its request
 * stream by hand, a response that cannot be serialized or is over the
 * server's `grpc.max_send_message_length`. Every call still gets the right status, every hook ends,
 * nothing is unhandled. Real grpc-js servers on 127.0.0.1 and the generated
 * echo client (testdata/fixtures/demo/v1/echo.proto).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { Metadata } from "@grpc/grpc-js";
import { GrpcError, Status, type CallResult, type ServerHook } from "@grpckit/runtime";
import { deferred, loadEcho, sleep, startEcho, waitFor, type EchoModule } from "./support/echo.js";
import { insecure, startServer } from "./support/grpc.js";

/** Everything unhandled during a test: there must be none. */
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => void unhandled.push(e);
beforeAll(() => {
  process.on("unhandledRejection", onUnhandled);
  process.on("uncaughtException", onUnhandled);
});
afterAll(() => {
  process.off("unhandledRejection", onUnhandled);
  process.off("uncaughtException", onUnhandled);
});
afterEach(() => {
  expect(unhandled).toEqual([]);
  unhandled.length = 0;
});

/** A hook recording how each call ended. */
function endRecorder(): { ends: CallResult[]; hook: ServerHook } {
  const ends: CallResult[] = [];
  return { ends, hook: () => ({ end: (r) => void ends.push(r) }) };
}

/** The GrpcError a call failed with, or "OK". */
const outcome = (p: Promise<unknown>): Promise<GrpcError | "OK"> => p.then(() => "OK" as const, (e: GrpcError) => e);

/** Read a stream to its end: "COMPLETE", or the GrpcError it threw. */
async function streamOutcome(stream: AsyncIterable<unknown>): Promise<GrpcError | "COMPLETE"> {
  try {
    for await (const _ of stream);
    return "COMPLETE";
  } catch (e) {
    return e as GrpcError;
  }
}

/** Requests "a0".."a{n-1}", then keep the request stream open until `stop`. */
async function* openRequests(stop: Promise<unknown>, n: number) {
  for (let i = 0; i < n; i++) yield { text: `a${i}` };
  await stop;
}

let gen: EchoModule;
beforeAll(async () => {
  gen = await loadEcho();
});

describe("user callbacks that throw never keep a call from its status", { timeout: 5000 }, () => {
  it("a hook whose end() throws: the status is sent, the other hooks still end, the error goes to onInternalError", async () => {
    const failing: ServerHook = () => ({
      end: () => {
        throw new Error("end hook failed");
      },
    });
    const outer = endRecorder();
    const reports: unknown[] = [];
    const pair = await startEcho(
      gen,
      { echo: async () => ({ text: "ok" }), async *expand() { yield { text: "ok" }; } },
      { hooks: [outer.hook, failing], onInternalError: (e: unknown) => void reports.push(e) },
    );
    try {
      expect(await outcome(pair.client.echo({}, { timeoutMs: 1500 }))).toBe("OK");
      expect(await streamOutcome(pair.client.expand({}, { timeoutMs: 1500 }))).toBe("COMPLETE");
      expect(outer.ends.map((e) => e.code)).toEqual([Status.OK, Status.OK]); // the outer hook (first = outermost) ends after the inner one threw
      expect(reports.map((e) => (e as Error).message)).toEqual(["end hook failed", "end hook failed"]);
    } finally {
      await pair.close();
    }
  });

  it("an onInternalError that throws: the client still gets INTERNAL, both errors are logged", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const pair = await startEcho(
      gen,
      {
        echo: async () => {
          throw new Error("handler bug");
        },
        async *expand() {
          throw new Error("handler bug");
        },
      },
      {
        onInternalError: () => {
          throw new Error("logger down");
        },
      },
    );
    try {
      expect(((await outcome(pair.client.echo({}, { timeoutMs: 1500 }))) as GrpcError).code).toBe(Status.INTERNAL);
      expect(((await streamOutcome(pair.client.expand({}, { timeoutMs: 1500 }))) as GrpcError).code).toBe(Status.INTERNAL);
      expect(logged).toHaveBeenCalledTimes(2);
      const [, reportError, , failure] = logged.mock.calls[0] as unknown[];
      expect([(reportError as Error).message, (failure as Error).message]).toEqual(["logger down", "handler bug"]);
    } finally {
      logged.mockRestore();
      await pair.close();
    }
  });
});

describe("a thrown error never reads as success, and its status is the one sent", { timeout: 5000 }, () => {
  it("a GrpcError with code OK, thrown after one response: INTERNAL, reported through onInternalError", async () => {
    const reports: unknown[] = [];
    const ended = endRecorder();
    const pair = await startEcho(
      gen,
      {
        async *expand() {
          yield { text: "first" };
          throw new GrpcError(Status.OK, "something broke");
        },
        echo: async () => {
          throw new GrpcError(Status.OK, "something broke");
        },
      },
      { hooks: [ended.hook], onInternalError: (e: unknown) => void reports.push(e) },
    );
    try {
      const stream = await streamOutcome(pair.client.expand({}));
      expect([(stream as GrpcError).code, (stream as GrpcError).rawMessage]).toEqual([Status.INTERNAL, "internal error"]);
      const unary = (await outcome(pair.client.echo({}))) as GrpcError;
      expect([unary.code, unary.rawMessage]).toEqual([Status.INTERNAL, "internal error"]);
      expect(reports).toHaveLength(2);
      expect(ended.ends.map((e) => e.code)).toEqual([Status.INTERNAL, Status.INTERNAL]);
    } finally {
      await pair.close();
    }
  });

  it("codes that are not integers from 1 to 16 (99, -1, 1.5) answer INTERNAL, and the hooks see INTERNAL", async () => {
    let code = 0;
    const ended = endRecorder();
    const pair = await startEcho(
      gen,
      {
        echo: async () => {
          throw new GrpcError(code as Status, "bad code");
        },
      },
      { hooks: [ended.hook], onInternalError: () => {} },
    );
    try {
      for (code of [99, -1, 1.5]) expect(((await outcome(pair.client.echo({}))) as GrpcError).code).toBe(Status.INTERNAL);
      expect(ended.ends.map((e) => e.code)).toEqual([Status.INTERNAL, Status.INTERNAL, Status.INTERNAL]);
    } finally {
      await pair.close();
    }
  });

  it("grpc-status / grpc-message in the handler's trailers are dropped: the thrown status, or OK, is what the client gets", async () => {
    const pair = await startEcho(gen, {
      async *expand() {
        yield { text: "first" };
        const md = new Metadata();
        md.set("grpc-status", "0");
        md.set("grpc-message", "all fine");
        md.set("x-kept", "yes");
        throw new GrpcError(Status.NOT_FOUND, "no such thing", { metadata: md });
      },
      echo: async (_req: unknown, ctx: { responseTrailer: Metadata }) => {
        ctx.responseTrailer.set("grpc-status", "13");
        return { text: "ok" };
      },
    });
    try {
      const stream = (await streamOutcome(pair.client.expand({}))) as GrpcError;
      expect([stream.code, stream.rawMessage, stream.metadata.get("x-kept")]).toEqual([Status.NOT_FOUND, "no such thing", ["yes"]]);
      expect(await outcome(pair.client.echo({}))).toBe("OK");
    } finally {
      await pair.close();
    }
  });
});

describe("the request stream a client-streaming handler iterates by hand", { timeout: 5000 }, () => {
  it("return() while a next() is pending settles both at once (as readMessages does; an async generator would queue it)", async () => {
    const stop = deferred<void>();
    const seen: string[] = [];
    const pair = await startEcho(gen, {
      async collect(reqs: AsyncIterable<{ text: string }>) {
        const it = reqs[Symbol.asyncIterator]();
        seen.push((await it.next()).value.text);
        const pending = it.next().then((r) => seen.push(`pending next: done=${String(r.done)}`));
        const returned = await Promise.race([it.return!().then(() => "returned"), sleep(1000).then(() => "return() still pending after 1 s")]);
        await pending;
        seen.push(returned);
        seen.push(`next after return: done=${String((await it.next()).done)}`);
        return { count: 1 };
      },
    });
    try {
      expect(await outcome(pair.client.collect(openRequests(stop.promise, 1), { timeoutMs: 3000 }))).toBe("OK");
      expect(seen).toEqual(["a0", "pending next: done=true", "returned", "next after return: done=true"]);
    } finally {
      stop.resolve();
      await pair.close();
    }
  });

  it("requests kept and read after the handler returned end at once", async () => {
    const stop = deferred<void>();
    let saved: AsyncIterable<unknown> | undefined;
    const pair = await startEcho(gen, {
      async collect(reqs: AsyncIterable<unknown>) {
        saved = reqs;
        return { count: 0 };
      },
    });
    try {
      expect(await outcome(pair.client.collect(openRequests(stop.promise, 2), { timeoutMs: 3000 }))).toBe("OK");
      const reading = (async () => {
        for await (const _ of saved as AsyncIterable<unknown>);
      })().then(
        () => "ended",
        () => "threw",
      );
      expect(await Promise.race([reading, sleep(1000).then(() => "still pending after 1 s")])).toBe("ended");
    } finally {
      stop.resolve();
      await pair.close();
    }
  });
});

describe("responses are serialized by the runtime, inside the handler's error handling", { timeout: 5000 }, () => {
  it("unary: a response that cannot be serialized answers INTERNAL \"internal error\", goes to onInternalError, and the hooks see INTERNAL", async () => {
    const { ends, hook } = endRecorder();
    const reports: unknown[] = [];
    const pair = await startEcho(gen, { echo: async () => ({ index: "not a number" }) }, { hooks: [hook], onInternalError: (e: unknown) => void reports.push(e) });
    try {
      const err = (await outcome(pair.client.echo({ text: "x" }))) as GrpcError;
      expect([err.code, err.rawMessage]).toEqual([Status.INTERNAL, "internal error"]);
      await waitFor(() => ends.length === 1);
      expect(ends[0]?.code).toBe(Status.INTERNAL);
      expect(reports).toHaveLength(1);
    } finally {
      await pair.close();
    }
  });

  it("server streaming: the messages before it arrive, then INTERNAL; the handler's finally runs; the hooks see INTERNAL", async () => {
    const { ends, hook } = endRecorder();
    const reports: unknown[] = [];
    let finallyRan = false;
    const pair = await startEcho(
      gen,
      {
        async *expand() {
          try {
            yield { text: "first" };
            yield { payload: "not bytes" };
            yield { text: "third" };
          } finally {
            finallyRan = true;
          }
        },
      },
      { hooks: [hook], onInternalError: (e: unknown) => void reports.push(e) },
    );
    try {
      const got: string[] = [];
      let error: unknown;
      try {
        for await (const m of pair.client.expand({}) as AsyncIterable<{ text: string }>) got.push(m.text);
      } catch (e) {
        error = e;
      }
      expect(got).toEqual(["first"]);
      expect((error as GrpcError).code).toBe(Status.INTERNAL);
      await waitFor(() => ends.length === 1);
      expect(ends[0]?.code).toBe(Status.INTERNAL);
      expect(reports).toHaveLength(1);
      expect(finallyRan).toBe(true);
    } finally {
      await pair.close();
    }
  });

  it("a response over grpc.max_send_message_length: RESOURCE_EXHAUSTED, seen by the hooks; one under it is sent", async () => {
    const { ends, hook } = endRecorder();
    let size = 4096;
    const s = await startServer((server) => gen.addPartialEchoService(server, { echo: async () => ({ payload: new Uint8Array(size) }) }, { hooks: [hook] }), { "grpc.max_send_message_length": 1024 });
    const client = new gen.EchoServiceClient(s.address, insecure());
    try {
      const err = (await outcome(client.echo({}))) as GrpcError;
      expect(err.code).toBe(Status.RESOURCE_EXHAUSTED);
      size = 1000;
      expect(await outcome(client.echo({}))).toBe("OK");
      await waitFor(() => ends.length === 2);
      expect(ends.map((e) => e.code)).toEqual([Status.RESOURCE_EXHAUSTED, Status.OK]);
    } finally {
      client.close();
      await s.stop();
    }
  });
});
