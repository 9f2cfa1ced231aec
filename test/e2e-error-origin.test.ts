import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterceptingCall, Metadata, type Interceptor } from "@grpc/grpc-js";
import { GrpcError, ResourceInfoSchema, RetryInfoSchema, Status, packDetail, pushbackError, type ClientHook } from "@grpckit/runtime";
import { loadEcho, startEcho, type EchoModule, type EchoPair } from "./support/echo.js";
import { insecure } from "./support/grpc.js";

/**
 * A two-hop chain: client -> A -> B. A's handler calls B with a generated
 * client and lets B's failure propagate. A peer error (B's status) is
 * forwarded to the client with its code, message, status details and custom
 * trailers, but not with B's hop-specific grpc-* trailers; a local failure of
 * A's client (a hook or interceptor threw, the client was closed) never puts
 * its text on the wire: the client gets INTERNAL "internal error" and A's
 * onInternalError gets the error.
 */
const secret = "db password is hunter2";

describe("error origin across two hops", { timeout: 20_000 }, () => {
  let gen: EchoModule;
  let b: EchoPair;
  let a: EchoPair;
  let bExecutions = 0;
  let reported: { error: unknown; path: string }[] = [];
  // What A's handler uses to call B; replaced per test.
  let downstream: EchoModule;

  beforeAll(async () => {
    gen = await loadEcho();
    b = await startEcho(gen, {
      async echo(req: { text: string }) {
        bExecutions++;
        if (req.text === "pushback") {
          const metadata = new Metadata();
          metadata.set("x-app-reason", "quota");
          metadata.set("grpc-hop-secret", "b-only");
          throw pushbackError(Status.RESOURCE_EXHAUSTED, "slow down", {
            retryAfterMs: 250,
            metadata,
            details: [packDetail(ResourceInfoSchema, { resourceType: "bucket", resourceName: "b1" })],
          });
        }
        return { text: `b:${req.text}` };
      },
    });
    a = await startEcho(
      gen,
      {
        async echo(req: { text: string }) {
          return downstream.echo({ text: req.text });
        },
      },
      { onInternalError: (error: unknown, path: string) => reported.push({ error, path }) },
    );
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  const callA = (text: string) => a.client.echo({ text }).then(() => undefined, (e: unknown) => e as GrpcError);
  const reset = () => {
    bExecutions = 0;
    reported = [];
  };

  it("a peer error is forwarded: code, message, grpc-status-details-bin, custom trailers; not grpc-retry-pushback-ms or other grpc-* keys", async () => {
    reset();
    downstream = b.client;
    const err = (await callA("pushback")) as GrpcError;
    expect(err).toBeInstanceOf(GrpcError);
    expect(err.origin).toBe("peer");
    expect(err.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(err.rawMessage).toBe("slow down");
    expect(err.findDetail(ResourceInfoSchema)?.resourceName).toBe("b1");
    expect(err.findDetail(RetryInfoSchema)).toBeDefined();
    expect(err.metadata.get("x-app-reason")).toEqual(["quota"]);
    expect(err.metadata.get("grpc-retry-pushback-ms")).toEqual([]);
    expect(err.metadata.get("grpc-hop-secret")).toEqual([]);
    expect(bExecutions).toBe(1);
    expect(reported).toEqual([]);
  });

  it("the downstream's own client sees its pushback trailer (the hop it was meant for)", async () => {
    reset();
    const err = (await b.client.echo({ text: "pushback" }).catch((e: unknown) => e)) as GrpcError;
    expect(err.origin).toBe("peer");
    expect(err.metadata.get("grpc-retry-pushback-ms")).toEqual(["250"]);
  });

  it("a client request hook that throws: INTERNAL \"internal error\" upstream, the error reported, B never called", async () => {
    reset();
    const hook: ClientHook = () => ({
      request() {
        throw new Error(secret);
      },
    });
    downstream = new gen.EchoServiceClient(b.address, insecure(), { hooks: [hook] });
    try {
      const err = (await callA("x")) as GrpcError;
      expect(err.code).toBe(Status.INTERNAL);
      expect(err.rawMessage).toBe("internal error");
      expect(JSON.stringify(err.metadata.toJSON())).not.toContain("hunter2");
      expect(bExecutions).toBe(0);
      expect(reported).toHaveLength(1);
      expect(reported[0]?.path).toBe("/demo.v1.EchoService/Echo");
      const local = reported[0]?.error as GrpcError;
      expect(local).toBeInstanceOf(GrpcError);
      expect(local.origin).toBe("local");
      expect(local.rawMessage).toBe(secret);
    } finally {
      downstream.close();
    }
  });

  it("a client hook that throws a GrpcError is local too: not forwarded as that code", async () => {
    reset();
    const hook: ClientHook = () => ({
      request() {
        throw new GrpcError(Status.INVALID_ARGUMENT, secret);
      },
    });
    downstream = new gen.EchoServiceClient(b.address, insecure(), { hooks: [hook] });
    try {
      const err = (await callA("x")) as GrpcError;
      expect([err.code, err.rawMessage]).toEqual([Status.INTERNAL, "internal error"]);
      expect((reported[0]?.error as GrpcError).origin).toBe("local");
      expect(bExecutions).toBe(0);
    } finally {
      downstream.close();
    }
  });

  it("a grpc-js interceptor that throws: INTERNAL upstream, reported", async () => {
    reset();
    const interceptor: Interceptor = (options, nextCall) =>
      new InterceptingCall(nextCall(options), {
        start() {
          throw new Error(secret);
        },
      });
    downstream = new gen.EchoServiceClient(b.address, insecure(), { interceptors: [interceptor] });
    try {
      const err = (await callA("x")) as GrpcError;
      expect([err.code, err.rawMessage]).toEqual([Status.INTERNAL, "internal error"]);
      expect(reported).toHaveLength(1);
      expect((reported[0]?.error as GrpcError).origin).toBe("local");
      expect(bExecutions).toBe(0);
    } finally {
      downstream.close();
    }
  });

  it("a closed client (UNAVAILABLE made locally): INTERNAL upstream, reported", async () => {
    reset();
    downstream = new gen.EchoServiceClient(b.address, insecure());
    downstream.close();
    const err = (await callA("x")) as GrpcError;
    expect([err.code, err.rawMessage]).toEqual([Status.INTERNAL, "internal error"]);
    expect(reported).toHaveLength(1);
    expect((reported[0]?.error as GrpcError).origin).toBe("local");
    expect(bExecutions).toBe(0);
  });

  it("a successful chain still works, and errors the application makes keep origin \"app\"", async () => {
    reset();
    downstream = b.client;
    expect(await a.client.echo({ text: "ok" })).toMatchObject({ text: "b:ok" });
    expect(new GrpcError(Status.NOT_FOUND, "x").origin).toBe("app");
    expect(bExecutions).toBe(1);
  });
});
