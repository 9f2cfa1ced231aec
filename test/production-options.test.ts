// The production server presets: the grpc-js options they produce, and the
// message size limit enforced by a real grpc-js server built from them, in
// both directions.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Status } from "@grpckit/runtime";
import { productionServerDefaults, productionServerOptions } from "@grpckit/runtime/production";
import { loadEcho, type EchoModule } from "./support/echo.js";
import { insecure, startServer } from "./support/grpc.js";

const MiB = 1024 * 1024;

describe("productionServerOptions", () => {
  it("maps the documented defaults to grpc-js option keys", () => {
    expect(productionServerDefaults).toEqual({
      maxMessageBytes: 4 * MiB,
      maxConcurrentStreams: 100,
      maxConnectionAgeMs: 1_800_000,
      maxConnectionAgeGraceMs: 30_000,
      maxConnectionIdleMs: 300_000,
      keepaliveTimeMs: 7_200_000,
      keepaliveTimeoutMs: 20_000,
    });
    expect(Object.isFrozen(productionServerDefaults)).toBe(true);
    expect(productionServerOptions()).toEqual({
      "grpc.max_receive_message_length": 4 * MiB,
      "grpc.max_send_message_length": 4 * MiB,
      "grpc.max_concurrent_streams": 100,
      "grpc.max_connection_age_ms": 1_800_000,
      "grpc.max_connection_age_grace_ms": 30_000,
      "grpc.max_connection_idle_ms": 300_000,
      "grpc.keepalive_time_ms": 7_200_000,
      "grpc.keepalive_timeout_ms": 20_000,
      "grpc.keepalive_permit_without_calls": 1,
    });
  });

  it("overrides field by field, and extra options win", () => {
    const interceptors: never[] = [];
    const options = productionServerOptions({ maxConcurrentStreams: 10, keepaliveTimeMs: 60_000 }, { "grpc.max_connection_idle_ms": 1000, interceptors });
    expect(options["grpc.max_concurrent_streams"]).toBe(10);
    expect(options["grpc.keepalive_time_ms"]).toBe(60_000);
    expect(options["grpc.max_connection_idle_ms"]).toBe(1000);
    expect(options["grpc.max_receive_message_length"]).toBe(4 * MiB);
    expect(options.interceptors).toBe(interceptors);
  });

  it("rejects limits that are not positive integers, naming the field", () => {
    expect(() => productionServerOptions({ maxMessageBytes: 0 })).toThrow(new RangeError("productionServerOptions: maxMessageBytes must be a positive integer, got 0"));
    expect(() => productionServerOptions({ keepaliveTimeoutMs: 1.5 })).toThrow(/keepaliveTimeoutMs must be a positive integer, got 1.5/);
    expect(() => productionServerOptions({ maxConnectionAgeMs: Number.NaN })).toThrow(RangeError);
  });
});

describe("the message size limit on a real server", () => {
  let gen: EchoModule;
  let stop: () => Promise<void>;
  let client: EchoModule;
  let served = 0;

  beforeAll(async () => {
    gen = await loadEcho();
    const s = await startServer(
      (server) =>
        gen.addPartialEchoService(server, {
          async echo(req: { text: string; count: number; payload: Uint8Array }) {
            served++;
            return { text: req.text, payload: new Uint8Array(req.count) };
          },
        }),
      productionServerOptions(),
    );
    stop = s.stop;
    // The client accepts big responses, so a failure can only come from the server's limits.
    client = new gen.EchoServiceClient(s.address, insecure(), { "grpc.max_receive_message_length": 64 * MiB, "grpc.max_send_message_length": 64 * MiB });
  });
  afterAll(async () => {
    client?.close();
    await stop?.();
  });

  it("serves messages just under 4 MiB both ways", async () => {
    const res = await client.echo({ text: "ok", payload: new Uint8Array(4 * MiB - 64), count: 4 * MiB - 64 }, { timeoutMs: 20_000 });
    expect(res.payload.length).toBe(4 * MiB - 64);
  });

  it("answers RESOURCE_EXHAUSTED to a request over 4 MiB, without running the handler", async () => {
    const before = served;
    const err = await client.echo({ text: "big", payload: new Uint8Array(4 * MiB + 1) }, { timeoutMs: 20_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: Status.RESOURCE_EXHAUSTED });
    expect(served).toBe(before);
  });

  it("fails with RESOURCE_EXHAUSTED a response over 4 MiB", async () => {
    const err = await client.echo({ text: "big reply", count: 4 * MiB + 1 }, { timeoutMs: 20_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: Status.RESOURCE_EXHAUSTED });
  });
});
