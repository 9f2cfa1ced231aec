/**
 * The client side of gRPC's interop test cases
 * (https://github.com/grpc/grpc/blob/master/doc/interop-test-descriptions.md),
 * driven through the generated clients. Each case resolves when every
 * assertion of the description holds and rejects with an Error saying which
 * one failed.
 */
import { Metadata, credentials, type ChannelCredentials } from "@grpc/grpc-js";
import { GrpcError, Status } from "@grpckit/runtime";
import { TestServiceClient, UnimplementedServiceClient } from "./gen/grpc/testing/test_grpckit.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { StreamingOutputCallRequestSchema, StreamingOutputCallResponse } from "./gen/grpc/testing/messages_pb.js";
import { RequestQueue } from "./request-queue.js";

/** The clients a case uses, on one channel each. */
export interface InteropClients {
  readonly test: TestServiceClient;
  readonly unimplemented: UnimplementedServiceClient;
}

export type InteropCase = (clients: InteropClients) => Promise<void>;

type StreamRequest = MessageInitShape<typeof StreamingOutputCallRequestSchema>;

const requestSizes = [27182, 8, 1828, 45904];
const responseSizes = [31415, 9, 2653, 58979];
const echoInitial = { key: "x-grpc-test-echo-initial", value: "test_initial_metadata_value" };
const echoTrailing = { key: "x-grpc-test-echo-trailing-bin", value: Buffer.from([0xab, 0xab, 0xab]) };
const specialMessage = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \u{1f608}\t\n";

/** Connect the clients of the cases to `address` (`host:port`). */
export function createInteropClients(address: string, creds: ChannelCredentials = credentials.createInsecure()): InteropClients {
  return { test: new TestServiceClient(address, creds), unimplemented: new UnimplementedServiceClient(address, creds) };
}

export function closeInteropClients(c: InteropClients): void {
  c.test.close();
  c.unimplemented.close();
}

/** Every supported case, by its name in the interop descriptions, in the descriptions' order. */
export const interopCases: Readonly<Record<string, InteropCase>> = {
  empty_unary: async ({ test }) => {
    const response = await test.emptyCall({});
    check(response !== undefined && response !== null, "response is non-null");
  },
  large_unary: async ({ test }) => {
    const response = await test.unaryCall({ responseSize: 314159, payload: { body: zeros(271828) } });
    checkZeros(response.payload?.body, 314159, "response payload");
  },
  client_streaming: async ({ test }) => {
    const response = await test.streamingInputCall(requestSizes.map((n) => ({ payload: { body: zeros(n) } })));
    check(response.aggregatedPayloadSize === 74922, `aggregated_payload_size is 74922, got ${response.aggregatedPayloadSize}`);
  },
  server_streaming: async ({ test }) => {
    const bodies: Uint8Array[] = [];
    const stream = test.streamingOutputCall({ responseParameters: responseSizes.map((size) => ({ size })) });
    for await (const r of stream) bodies.push(r.payload?.body ?? new Uint8Array());
    checkSizes(bodies, responseSizes);
  },
  ping_pong: async ({ test }) => {
    const requests = new RequestQueue<StreamRequest>();
    const bodies: Uint8Array[] = [];
    requests.push(pingPongRequest(0));
    for await (const r of test.fullDuplexCall(requests)) {
      bodies.push(r.payload?.body ?? new Uint8Array());
      if (bodies.length < requestSizes.length) requests.push(pingPongRequest(bodies.length));
      else requests.end();
    }
    checkSizes(bodies, responseSizes);
  },
  empty_stream: async ({ test }) => {
    let count = 0;
    for await (const _ of test.fullDuplexCall([])) count++;
    check(count === 0, `exactly zero responses, got ${count}`);
  },
  timeout_on_sleeping_server: async ({ test }) => {
    const requests = new RequestQueue<StreamRequest>();
    requests.push({ payload: { body: zeros(27182) } });
    try {
      const call = test.fullDuplexCall(requests, { timeoutMs: 1 });
      await expectStatus(drain(call), Status.DEADLINE_EXCEEDED);
    } finally {
      requests.end();
    }
  },
  cancel_after_begin: async ({ test }) => {
    const requests = new RequestQueue<{ payload: { body: Uint8Array } }>();
    const abort = new AbortController();
    const call = test.streamingInputCall(requests, { signal: abort.signal });
    abort.abort();
    requests.end();
    await expectStatus(call, Status.CANCELLED);
  },
  cancel_after_first_response: async ({ test }) => {
    const requests = new RequestQueue<StreamRequest>();
    const abort = new AbortController();
    requests.push(pingPongRequest(0));
    const iterator = test.fullDuplexCall(requests, { signal: abort.signal })[Symbol.asyncIterator]();
    try {
      const first = await iterator.next();
      check(!first.done, "a first response arrives");
      abort.abort();
      await expectStatus(iterator.next(), Status.CANCELLED);
    } finally {
      requests.end();
    }
  },
  custom_metadata: async ({ test }) => {
    const metadata = { [echoInitial.key]: echoInitial.value, [echoTrailing.key]: echoTrailing.value };
    const unary = captureMetadata();
    const response = await test.unaryCall({ responseSize: 314159, payload: { body: zeros(271828) } }, { metadata, ...unary.options });
    checkZeros(response.payload?.body, 314159, "unary response payload");
    unary.checkEchoed("UnaryCall");
    const bidi = captureMetadata();
    const bodies: Uint8Array[] = [];
    const request: StreamRequest = { responseParameters: [{ size: 314159 }], payload: { body: zeros(271828) } };
    for await (const r of test.fullDuplexCall([request], { metadata, ...bidi.options })) bodies.push(r.payload?.body ?? new Uint8Array());
    checkSizes(bodies, [314159]);
    bidi.checkEchoed("FullDuplexCall");
  },
  status_code_and_message: async ({ test }) => {
    const responseStatus = { code: Status.UNKNOWN, message: "test status message" };
    await expectStatus(test.unaryCall({ responseStatus }), Status.UNKNOWN, responseStatus.message);
    await expectStatus(drain(test.fullDuplexCall([{ responseStatus }])), Status.UNKNOWN, responseStatus.message);
  },
  special_status_message: async ({ test }) => {
    const responseStatus = { code: Status.UNKNOWN, message: specialMessage };
    await expectStatus(test.unaryCall({ responseStatus }), Status.UNKNOWN, specialMessage);
  },
  unimplemented_method: async ({ test }) => {
    await expectStatus(test.unimplementedCall({}), Status.UNIMPLEMENTED);
  },
  unimplemented_service: async ({ unimplemented }) => {
    await expectStatus(unimplemented.unimplementedCall({}), Status.UNIMPLEMENTED);
  },
};

function pingPongRequest(i: number): StreamRequest {
  return { responseParameters: [{ size: responseSizes[i]! }], payload: { body: zeros(requestSizes[i]!) } };
}

function zeros(n: number): Uint8Array {
  return new Uint8Array(n);
}

async function drain(stream: AsyncIterable<StreamingOutputCallResponse>): Promise<number> {
  let n = 0;
  for await (const _ of stream) n++;
  return n;
}

/** Record the header and trailer of a call; check the echoed entries afterwards. */
function captureMetadata() {
  let header: Metadata | undefined;
  let trailer: Metadata | undefined;
  return {
    options: { onHeader: (m: Metadata) => (header = m), onTrailer: (m: Metadata) => (trailer = m) },
    checkEchoed(call: string) {
      const initial = header?.get(echoInitial.key) ?? [];
      check(initial.length === 1 && initial[0] === echoInitial.value, `${call}: initial metadata echoes ${echoInitial.key}, got ${JSON.stringify(initial)}`);
      const trailing = trailer?.get(echoTrailing.key) ?? [];
      const ok = trailing.length === 1 && Buffer.isBuffer(trailing[0]) && trailing[0].equals(echoTrailing.value);
      check(ok, `${call}: trailing metadata echoes ${echoTrailing.key} = 0xababab, got ${JSON.stringify(trailing)}`);
    },
  };
}

/** Expect `call` to fail with a GrpcError of `code` (and `message`, when given). */
async function expectStatus(call: Promise<unknown>, code: Status, message?: string): Promise<void> {
  let error: unknown;
  try {
    await call;
  } catch (err) {
    error = err;
  }
  check(error !== undefined, `the call fails with ${Status[code]}, but it succeeded`);
  check(error instanceof GrpcError, `the call fails with a GrpcError, got ${String(error)}`);
  const e = error as GrpcError;
  check(e.code === code, `status code is ${Status[code]}, got ${e.codeName}: ${JSON.stringify(e.rawMessage)}`);
  if (message !== undefined) check(e.rawMessage === message, `status message is ${JSON.stringify(message)}, got ${JSON.stringify(e.rawMessage)}`);
}

function checkSizes(bodies: readonly Uint8Array[], sizes: readonly number[]): void {
  check(bodies.length === sizes.length, `exactly ${sizes.length} responses, got ${bodies.length}`);
  bodies.forEach((b, i) => checkZeros(b, sizes[i]!, `response ${i + 1} payload`));
}

function checkZeros(body: Uint8Array | undefined, size: number, what: string): void {
  check(body !== undefined && body.length === size, `${what} body is ${size} bytes, got ${body?.length}`);
  check(body!.every((b) => b === 0), `${what} body is all zeros`);
}

function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${what}`);
}
