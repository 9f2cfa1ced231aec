import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Status } from "@grpckit/runtime";
import { loadEcho, metadataRecord, startEcho, type EchoPair } from "./echo.js";
import { callKind, createBehaviourImpl, handlerStatus, secretText, type EchoKind, type SeenCall } from "./echo-calls.js";

const expectedResponses: Record<EchoKind, string[]> = {
  echo: ["a"],
  expand: ["a", "a"],
  collect: ["a,b"],
  chat: ["a", "b"],
};

const methodName: Record<EchoKind, string> = { echo: "Echo", expand: "Expand", collect: "Collect", chat: "Chat" };

/**
 * Register the metadata and error contract of one method kind, served by the
 * generated code from the echo fixture on a real grpc-js server on 127.0.0.1.
 */
export function describeCallContract(kind: EchoKind): void {
  describe(`${kind} (${methodName[kind]}): metadata and errors`, () => {
    const seen: SeenCall[] = [];
    const reported: { error: unknown; path: string }[] = [];
    let pair: EchoPair;
    let bare: EchoPair;
    beforeAll(async () => {
      const gen = await loadEcho();
      pair = await startEcho(gen, createBehaviourImpl(seen), { onInternalError: (error: unknown, path: string) => reported.push({ error, path }) });
      bare = await startEcho(gen, {});
    });
    afterAll(async () => {
      await pair?.close();
      await bare?.close();
    });

    it("carries request metadata to the handler and response headers and trailers back", async () => {
      seen.length = 0;
      const bin = Buffer.from([0, 1, 2, 255]);
      const out = await callKind(pair.client, kind, { metadata: { "x-req": "hello", "x-req-bin": bin } });
      expect(out.error).toBeUndefined();
      expect(out.responses).toEqual(expectedResponses[kind]);
      expect(seen).toHaveLength(1);
      expect(seen[0]?.path).toBe(`/demo.v1.EchoService/${methodName[kind]}`);
      expect(seen[0]?.requestMetadata.get("x-req")).toEqual(["hello"]);
      expect(seen[0]?.requestMetadata.get("x-req-bin")).toEqual([bin]);
      expect(out.headers).toHaveLength(1);
      expect(out.headers[0]?.get("x-echo")).toEqual(["hello"]);
      expect(out.headers[0]?.get("x-echo-bin")).toEqual([bin]);
      expect(out.headers[0]?.get("x-trailer")).toEqual([]);
      expect(out.trailers).toHaveLength(1);
      expect(out.trailers[0]?.get("x-trailer")).toEqual(["t"]);
      expect(out.trailers[0]?.get("x-echo")).toEqual([]);
    });

    it("answers a thrown GrpcError with its exact code, message and trailers, trailers-only", async () => {
      const out = await callKind(pair.client, kind, { metadata: { "x-req": "hello", "x-behaviour": "grpc-error" } });
      expect(out.responses).toEqual([]);
      expect(out.error).toMatchObject({ code: handlerStatus.code, rawMessage: handlerStatus.message });
      // The headers the handler set before failing arrive with the trailers (trailers-only response):
      // grpc-js never emits a `metadata` event for it, so onHeader is not called.
      expect(out.headers).toHaveLength(0);
      expect(metadataRecord(out.error?.metadata)).toMatchObject({ "x-detail": ["d"], "x-trailer": ["t"], "x-echo": ["hello"] });
      expect(out.trailers).toHaveLength(1);
      expect(metadataRecord(out.trailers[0])).toMatchObject({ "x-detail": ["d"], "x-trailer": ["t"], "x-echo": ["hello"] });
    });

    it("answers any other error with INTERNAL \"internal error\", reports it locally, and leaks nothing", async () => {
      reported.length = 0;
      const out = await callKind(pair.client, kind, { metadata: { "x-behaviour": "plain-error" } });
      expect(out.error).toMatchObject({ code: Status.INTERNAL, rawMessage: "internal error" });
      expect(out.headers).toHaveLength(0);
      const wire = JSON.stringify([out.error?.message, metadataRecord(out.error?.metadata), metadataRecord(out.trailers[0])]);
      expect(wire).not.toContain("hunter2");
      expect(wire).not.toMatch(/\bat .*:\d+:\d+/); // no stack frame
      expect(reported).toHaveLength(1);
      expect(reported[0]?.path).toBe(`/demo.v1.EchoService/${methodName[kind]}`);
      expect((reported[0]?.error as Error).message).toBe(secretText);
    });

    it("answers UNIMPLEMENTED, trailers-only, when addPartialEchoService left the method out", async () => {
      const out = await callKind(bare.client, kind);
      expect(out.error?.code).toBe(Status.UNIMPLEMENTED);
      expect(out.error?.rawMessage).toContain(`/demo.v1.EchoService/${methodName[kind]}`);
      expect(out.headers).toHaveLength(0);
      expect(out.responses).toEqual([]);
    });
  });
}
