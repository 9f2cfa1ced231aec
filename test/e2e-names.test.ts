// Generated code for user names that equal globals and imported names (testdata/protos/names)
// runs, not only type-checks: service `Server` (every method kind, with messages named Promise,
// Partial, AsyncIterable, Buffer, ...) and service `options` (a parameter's name), over grpc-js on
// 127.0.0.1, with request validation on the validated message `c0`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GrpcError, Status } from "@grpckit/runtime";
import { insecure, startServer } from "./support/grpc.js";
import { root } from "./support/paths.js";
import { generateValidated } from "./support/validate-proto.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
let gen: Any;
let s: Awaited<ReturnType<typeof startServer>>;
let client: Any;
let optionsClient: Any;

async function* from<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}

beforeAll(async () => {
  const proto = readFileSync(join(root, "testdata", "protos", "names", "v1", "names.proto"), "utf8");
  const out = generateValidated({ "names/v1/names.proto": proto });
  gen = await import(`${out}/names/v1/names_grpckit.ts`);
  s = await startServer((server) => {
    gen.addServer(server, {
      async get(request: { id: string }) {
        return { message: `got ${request.id}` };
      },
      async *list(request: { id: string }) {
        for (let i = 0; i < 3; i++) yield { id: `${request.id}-${i}` };
      },
      async upload(requests: AsyncIterable<{ data: Uint8Array }>) {
        let n = 0;
        for await (const r of requests) n += r.data.length;
        return { seconds: BigInt(n) };
      },
      async *chat(requests: AsyncIterable<{ id: string }>) {
        for await (const r of requests) yield { data: new TextEncoder().encode(r.id) };
      },
      async check() {
        return { code: 0, message: "ok" };
      },
      async sum(requests: AsyncIterable<unknown>) {
        let n = 0;
        for await (const _ of requests) n++;
        return { entries: { count: String(n) } };
      },
    });
    gen.addoptions(server, {
      async get(request: { id: string }) {
        return { id: request.id.toUpperCase() };
      },
      async up(requests: AsyncIterable<{ id: string }>) {
        const ids: string[] = [];
        for await (const r of requests) ids.push(r.id);
        return { id: ids.join("") };
      },
    });
  });
  client = new gen.ServerClient(s.address, insecure());
  optionsClient = new gen.optionsClient(s.address, insecure());
}, 120_000);

afterAll(async () => {
  client?.close();
  optionsClient?.close();
  await s?.stop();
});

describe("names that equal globals and imported names, at run time", () => {
  it("service Server: unary, server streaming, client streaming and bidi", async () => {
    expect((await client.get({ id: "a" })).message).toBe("got a");
    const listed: string[] = [];
    for await (const r of client.list({ id: "p" })) listed.push(r.id);
    expect(listed).toEqual(["p-0", "p-1", "p-2"]);
    expect((await client.upload(from([{ data: new Uint8Array(2) }, { data: new Uint8Array(3) }]))).seconds).toBe(5n);
    const chatted: string[] = [];
    for await (const r of client.chat(from([{ id: "x" }, { id: "yz" }]))) chatted.push(new TextDecoder().decode(r.data));
    expect(chatted).toEqual(["x", "yz"]);
  });

  it("service options: its generated functions get the service, not their options parameter", async () => {
    expect((await optionsClient.get({ id: "abc" })).id).toBe("ABC");
    expect((await optionsClient.up(from([{ id: "ab" }, { id: "cd" }]))).id).toBe("abcd");
  });

  it("validation of the message c0 (named like a module constant of the _validate file) runs on the server", async () => {
    const err = await optionsClient.get({ id: "NOT lower" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrpcError);
    expect((err as GrpcError).code).toBe(Status.INVALID_ARGUMENT);
  });
});
