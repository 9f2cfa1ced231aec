import { expect } from "vitest";
import { Metadata } from "@grpc/grpc-js";
import { generateFixtures } from "./fixture.js";
import { insecure, startServer } from "./grpc.js";

/**
 * The generated module of testdata/fixtures/demo/v1/echo.proto. Typed loosely:
 * the file only exists once a test generated it.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EchoModule = any;

let cached: Promise<EchoModule> | undefined;

/** Generate (real protoc, once per test file) and import the echo fixture's `_grpckit.ts`. */
export function loadEcho(): Promise<EchoModule> {
  cached ??= (async () => {
    const out = generateFixtures(["demo/v1/echo.proto"]);
    return import(`${out}/demo/v1/echo_grpckit.ts`);
  })();
  return cached;
}

/** A started echo server and a client of it; `close()` closes both. */
export interface EchoPair {
  readonly address: string;
  readonly client: EchoModule;
  close(): Promise<void>;
}

/** Start a grpc-js server with `addPartialEchoService(impl, options)` and connect a client. */
export async function startEcho(gen: EchoModule, impl: object, options: object = {}, clientOptions: object = {}): Promise<EchoPair> {
  const s = await startServer((server) => gen.addPartialEchoService(server, impl, options));
  const client = new gen.EchoServiceClient(s.address, insecure(), clientOptions);
  return {
    address: s.address,
    client,
    async close() {
      client.close();
      await s.stop();
    },
  };
}

/** A promise with its resolve function exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves with the signal's reason once it aborts. */
export function aborted(signal: AbortSignal): Promise<unknown> {
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(signal.reason), { once: true }));
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Poll `condition` every 5 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 2000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * Wait until `value()` stops changing for `quietMs` (a producer stalled on
 * backpressure); returns the stable value. Throws after `timeoutMs`.
 */
export async function settled(value: () => number, quietMs = 150, timeoutMs = 5000): Promise<number> {
  const end = Date.now() + timeoutMs;
  let last = value();
  let since = Date.now();
  for (;;) {
    await sleep(10);
    const now = value();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return now;
    }
    if (Date.now() > end) throw new Error(`value still changing after ${timeoutMs} ms (last ${now})`);
  }
}

/** Metadata as a plain record of every key to its values (for assertions). */
export function metadataRecord(md: Metadata | undefined): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  if (md === undefined) return out;
  for (const key of Object.keys(md.getMap())) out[key] = md.get(key);
  return out;
}

/**
 * How far a producer may run ahead of a stalled consumer: the buffers on the
 * way, in messages. readMessages' highWaterMark (16) + the grpc-js Readable's
 * object-mode highWaterMark (16) + the grpc-js Writable's (16) + a few
 * messages in the HTTP/2 stream window and in flight. Measured: 43.
 */
export const streamMaxAhead = 16 + 16 + 16 + 8;

/**
 * Read a stream of echo responses to its end, starting at response `from`:
 * each must carry the next index and a payload of `payloadLength` bytes.
 * Resolves to the number of responses read in all (`from` included).
 */
export async function readRestInOrder(it: AsyncIterator<{ index: number; payload: Uint8Array }>, from: number, payloadLength: number): Promise<number> {
  let next = from;
  for (;;) {
    const r = await it.next();
    if (r.done) return next;
    expect(r.value.index).toBe(next++);
    expect(r.value.payload.length).toBe(payloadLength);
  }
}
