import { describe, expect, it } from "vitest";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  GrpcError,
  HelpSchema,
  LocalizedMessageSchema,
  PreconditionFailureSchema,
  QuotaFailureSchema,
  ResourceInfoSchema,
  RetryInfoSchema,
  Status,
  badRequestError,
  packDetail,
  pushbackError,
  serverPushbackMs,
} from "@grpckit/runtime";
import { insecure, startServer } from "./support/grpc.js";
import { loadFaults } from "./support/fault-server.js";

describe("google.rpc.Status details over grpc-status-details-bin", () => {
  it("a handler's GrpcError details reach the client decoded, every standard type", async () => {
    const gen = await loadFaults();
    const details = [
      packDetail(ErrorInfoSchema, { reason: "STOCK_OUT", domain: "shop.example", metadata: { sku: "42" } }),
      packDetail(QuotaFailureSchema, { violations: [{ subject: "project:1", description: "daily limit" }] }),
      packDetail(PreconditionFailureSchema, { violations: [{ type: "TOS", subject: "user:1", description: "terms not accepted" }] }),
      packDetail(ResourceInfoSchema, { resourceType: "book", resourceName: "b/1", owner: "u", description: "missing" }),
      packDetail(HelpSchema, { links: [{ description: "docs", url: "https://example.com" }] }),
      packDetail(LocalizedMessageSchema, { locale: "fr-FR", message: "introuvable" }),
    ];
    const s = await startServer((server) =>
      gen.addPartialFaultService(server, {
        async get(req: { id: string }) {
          if (req.id === "bad") throw badRequestError([{ field: "id", description: "must not be 'bad'", reason: "ID_BAD" }]);
          throw new GrpcError(Status.NOT_FOUND, "no such book", { details });
        },
      }),
    );
    const client = new gen.FaultServiceClient(s.address, insecure());
    const err = (await client.get({ id: "x" }).catch((e: unknown) => e)) as GrpcError;
    expect(err.code).toBe(Status.NOT_FOUND);
    expect(err.details).toHaveLength(6);
    expect(err.findDetail(ErrorInfoSchema)).toMatchObject({ reason: "STOCK_OUT", domain: "shop.example", metadata: { sku: "42" } });
    expect(err.findDetail(QuotaFailureSchema)?.violations[0]?.subject).toBe("project:1");
    expect(err.findDetail(PreconditionFailureSchema)?.violations[0]?.type).toBe("TOS");
    expect(err.findDetail(ResourceInfoSchema)?.resourceName).toBe("b/1");
    expect(err.findDetail(HelpSchema)?.links[0]?.url).toBe("https://example.com");
    expect(err.findDetail(LocalizedMessageSchema)?.message).toBe("introuvable");
    expect(err.findDetail(BadRequestSchema)).toBeUndefined();

    const bad = (await client.get({ id: "bad" }).catch((e: unknown) => e)) as GrpcError;
    expect(bad.code).toBe(Status.INVALID_ARGUMENT);
    expect(bad.rawMessage).toBe("id: must not be 'bad'");
    expect(bad.findDetail(BadRequestSchema)?.fieldViolations[0]).toMatchObject({ field: "id", description: "must not be 'bad'", reason: "ID_BAD" });
    client.close();
    await s.stop();
  });

  it("pushback helpers: metadata and RetryInfo; details with a mismatched code are ignored", () => {
    const e = pushbackError(Status.RESOURCE_EXHAUSTED, "slow down", { retryAfterMs: 1500 });
    expect(e.metadata.get("grpc-retry-pushback-ms")).toEqual(["1500"]);
    expect(e.findDetail(RetryInfoSchema)?.retryDelay?.seconds).toBe(1n);
    expect(serverPushbackMs(e)).toBe(1500);
    const onlyRetryInfo = new GrpcError(Status.UNAVAILABLE, "x", { details: [packDetail(RetryInfoSchema, { retryDelay: { seconds: 0n, nanos: 250_000_000 } })] });
    expect(serverPushbackMs(onlyRetryInfo)).toBe(250);
    expect(serverPushbackMs(pushbackError(Status.UNAVAILABLE, "no", { retryAfterMs: -1 }))).toBe(-1);
    const mismatched = new GrpcError(Status.INTERNAL, "x", { metadata: e.metadata });
    expect(mismatched.details).toEqual([]);
  });
});
