/**
 * grpc.testing.TestService implemented on the generated server skeleton, with
 * the server features of gRPC's interop test descriptions
 * (https://github.com/grpc/grpc/blob/master/doc/interop-test-descriptions.md):
 * EmptyCall, UnaryCall, CacheableUnaryCall, StreamingInputCall,
 * StreamingOutputCall, FullDuplexCall, HalfDuplexCall, Echo Status, Echo
 * Metadata and ResponseParameters.interval_us. UnimplementedCall is left out
 * on purpose (it answers UNIMPLEMENTED).
 *
 * Not supported: CompressedRequest / CompressedResponse (grpc-js does not tell
 * a handler whether a message arrived compressed, nor compress one response
 * on request), so `expect_compressed: true` answers INVALID_ARGUMENT; and the
 * auth echo features (no credentials here).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Server } from "@grpc/grpc-js";
import { GrpcError, Status, type HandlerContext } from "@grpckit/runtime";
import { addPartialTestService, type TestServiceServer } from "./gen/grpc/testing/test_grpckit.js";
import {
  PayloadType,
  type EchoStatus,
  type PayloadSchema,
  type ResponseParameters,
  type StreamingOutputCallRequest,
  type StreamingOutputCallResponseSchema,
} from "./gen/grpc/testing/messages_pb.js";

/** Request header echoed back as a response header (Echo Metadata). */
export const echoInitialKey = "x-grpc-test-echo-initial";
/** Binary request header echoed back as a response trailer (Echo Metadata). */
export const echoTrailingKey = "x-grpc-test-echo-trailing-bin";
/** What this server puts in `SimpleResponse.server_id` when asked (`fill_server_id`). */
export const serverId = "protoc-gen-grpckit-interop";

type Handlers = Omit<TestServiceServer, "unimplementedCall">;
type StreamingResponse = MessageInitShape<typeof StreamingOutputCallResponseSchema>;

/** Register the interop TestService on a grpc-js Server (UnimplementedCall stays unimplemented). */
export function addInteropTestService(server: Server): void {
  addPartialTestService(server, createTestService());
}

/** The handlers of the interop TestService. */
export function createTestService(): Handlers {
  return {
    async emptyCall(_request, context) {
      echoMetadata(context);
      return {};
    },
    async unaryCall(request, context) {
      echoMetadata(context);
      throwEchoStatus(request.responseStatus);
      if (request.expectCompressed?.value) throw compressionUnsupported();
      return {
        payload: payload(request.responseType, request.responseSize),
        serverId: request.fillServerId ? serverId : "",
      };
    },
    async cacheableUnaryCall(_request, context) {
      echoMetadata(context);
      context.responseHeader.set("cache-control", "max-age=60, public");
      const nanos = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
      return { payload: { type: PayloadType.COMPRESSABLE, body: new TextEncoder().encode(nanos.toString()) } };
    },
    async *streamingOutputCall(request, context) {
      echoMetadata(context);
      yield* respond(request, context);
    },
    async streamingInputCall(requests, context) {
      echoMetadata(context);
      let aggregatedPayloadSize = 0;
      for await (const r of requests) {
        if (r.expectCompressed?.value) throw compressionUnsupported();
        aggregatedPayloadSize += r.payload?.body.length ?? 0;
      }
      return { aggregatedPayloadSize };
    },
    async *fullDuplexCall(requests, context) {
      echoMetadata(context);
      for await (const r of requests) yield* respond(r, context);
    },
    async *halfDuplexCall(requests, context) {
      echoMetadata(context);
      const all: StreamingOutputCallRequest[] = [];
      for await (const r of requests) all.push(r);
      for (const r of all) yield* respond(r, context);
    },
  };
}

/** The responses to one StreamingOutputCallRequest: Echo Status first, then one payload per ResponseParameters. */
async function* respond(request: StreamingOutputCallRequest, context: HandlerContext): AsyncGenerator<StreamingResponse> {
  throwEchoStatus(request.responseStatus);
  for (const p of request.responseParameters) {
    await waitInterval(p, context.signal);
    yield { payload: payload(request.responseType, p.size) };
  }
}

/** Echo Metadata: copy the echo headers of the request into the response header and trailer. */
function echoMetadata(context: HandlerContext): void {
  for (const v of context.requestMetadata.get(echoInitialKey)) context.responseHeader.add(echoInitialKey, v);
  for (const v of context.requestMetadata.get(echoTrailingKey)) context.responseTrailer.add(echoTrailingKey, v);
}

/** Echo Status: end the call with the requested status code and message. */
function throwEchoStatus(status: EchoStatus | undefined): void {
  if (status !== undefined && status.code !== Status.OK) throw new GrpcError(status.code, status.message);
}

/** A payload of `size` zero bytes; INVALID_ARGUMENT for a negative size or an unsupported type. */
function payload(type: PayloadType, size: number): MessageInitShape<typeof PayloadSchema> {
  if (type !== PayloadType.COMPRESSABLE) throw new GrpcError(Status.INVALID_ARGUMENT, `unsupported response_type ${type}`);
  if (size < 0) throw new GrpcError(Status.INVALID_ARGUMENT, `response size must be >= 0, got ${size}`);
  return { type, body: new Uint8Array(size) };
}

/** Observe ResponseParameters.interval_us (microseconds): sleep before the response, until the call ends. */
async function waitInterval(p: ResponseParameters, signal: AbortSignal): Promise<void> {
  if (p.intervalUs > 0) await sleep(p.intervalUs / 1000, undefined, { signal });
}

function compressionUnsupported(): GrpcError {
  return new GrpcError(Status.INVALID_ARGUMENT, "this server cannot tell whether a request was compressed (expect_compressed is not supported)");
}
