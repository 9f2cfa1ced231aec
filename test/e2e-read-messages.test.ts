import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getEventListeners } from "node:events";
import { makeGenericClientConstructor, type Client, type ClientDuplexStream, type Server, type ServerDuplexStream } from "@grpc/grpc-js";
import { readMessages } from "@grpckit/runtime";
import { insecure, startServer } from "./support/grpc.js";
import { waitFor } from "./support/echo.js";

/**
 * `readMessages` (public API, and the request stream of every generated
 * client-streaming and bidi server) keeps the async-iterator protocol of an
 * async generator on a real grpc-js server stream: `return()` and `throw()`
 * settle pending reads, concurrent reads each get a message, an error is
 * reported once, and every listener it added is removed.
 */

const identity = (b: Buffer) => b;
const definition = {
  read: { path: "/grpckit.test.Read/Read", requestStream: true, responseStream: true, requestSerialize: identity, requestDeserialize: (b: Buffer) => b.toString(), responseSerialize: identity, responseDeserialize: identity },
} as const;
const ReadClient = makeGenericClientConstructor(definition, "Read");

type ServerCall = ServerDuplexStream<string, Buffer>;

describe("readMessages on a grpc-js server stream", { timeout: 5000 }, () => {
  let server: { server: Server; address: string; stop(): Promise<void> };
  let client: Client & { read(): ClientDuplexStream<Buffer, Buffer> };
  const calls: ServerCall[] = [];

  beforeAll(async () => {
    server = await startServer((s) => s.addService(definition, { read: (call: ServerCall) => void calls.push(call) }));
    client = new ReadClient(server.address, insecure()) as typeof client;
  });
  afterAll(async () => {
    client.close();
    await server.stop();
  });

  /** Open a call; resolves with both ends once the server has it, and the server stream's listener counts before reading. */
  async function open() {
    const before = calls.length;
    const up = client.read();
    up.on("error", () => {});
    up.on("data", () => {});
    up.write(Buffer.from("hello"));
    await waitFor(() => calls.length > before);
    const call = calls[before] as ServerCall;
    const listeners = { data: call.listenerCount("data"), end: call.listenerCount("end"), error: call.listenerCount("error") };
    const finish = () => {
      call.end();
      up.end();
    };
    return { up, call, listeners, finish };
  }

  function expectDetached(call: ServerCall, listeners: { data: number; end: number; error: number }) {
    expect({ data: call.listenerCount("data"), end: call.listenerCount("end"), error: call.listenerCount("error") }).toEqual(listeners);
  }

  it("return() settles a pending next() with done, detaches, and later reads stay done", async () => {
    const { up, call, listeners, finish } = await open();
    const messages = readMessages<string>(call)[Symbol.asyncIterator]();
    expect(await messages.next()).toEqual({ done: false, value: "hello" });
    const pending = messages.next();
    expect(await messages.return?.()).toEqual({ done: true, value: undefined });
    expect(await pending).toEqual({ done: true, value: undefined });
    expectDetached(call, listeners);
    up.write(Buffer.from("after return"));
    expect(await messages.next()).toEqual({ done: true, value: undefined });
    finish();
  });

  it("throw(error) settles a pending next() with done and rejects with that error", async () => {
    const { call, listeners, finish } = await open();
    const messages = readMessages<string>(call)[Symbol.asyncIterator]();
    await messages.next();
    const pending = messages.next();
    const stop = new Error("consumer gave up");
    await expect(messages.throw?.(stop)).rejects.toBe(stop);
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(await messages.next()).toEqual({ done: true, value: undefined });
    expectDetached(call, listeners);
    finish();
  });

  it("concurrent next() calls each get one message, in order, and the end", async () => {
    const { up, call, listeners } = await open();
    const messages = readMessages<string>(call)[Symbol.asyncIterator]();
    const reads = [messages.next(), messages.next(), messages.next(), messages.next()];
    up.write(Buffer.from("two"));
    up.write(Buffer.from("three"));
    up.end();
    expect(await Promise.all(reads)).toEqual([
      { done: false, value: "hello" },
      { done: false, value: "two" },
      { done: false, value: "three" },
      { done: true, value: undefined },
    ]);
    expectDetached(call, listeners);
    call.end();
  });

  it("an abort rejects one pending next() with signal.reason; later reads are done and the abort listener is gone", async () => {
    const { call, listeners, finish } = await open();
    const controller = new AbortController();
    const messages = readMessages<string>(call, { signal: controller.signal })[Symbol.asyncIterator]();
    await messages.next();
    const first = messages.next();
    const second = messages.next();
    const reason = new Error("deadline");
    controller.abort(reason);
    await expect(first).rejects.toBe(reason);
    expect(await second).toEqual({ done: true, value: undefined });
    expect(await messages.next()).toEqual({ done: true, value: undefined });
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    expectDetached(call, listeners);
    finish();
  });
});
