// Client spans carry network.peer.address / network.peer.port of the attempt the call
// ended with, where the RPC semantic conventions recommend them (different from server.address).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ATTR_NETWORK_PEER_ADDRESS, ATTR_NETWORK_PEER_PORT, ATTR_SERVER_ADDRESS } from "@opentelemetry/semantic-conventions";
import { SpanKind } from "@opentelemetry/api";
import { GrpcError, Status } from "@grpckit/runtime";
import { generateFixtures } from "./support/fixture.js";
import { insecure, startServer } from "./support/grpc.js";
import { installTestSdk, waitForSpans, type TestSdk } from "./support/telemetry-sdk.js";

/* eslint-disable @typescript-eslint/no-explicit-any */
let gen: any;
let sdk: TestSdk;

beforeAll(async () => {
  sdk = installTestSdk();
  gen = await import(`${generateFixtures(["demo/v1/echo.proto"])}/demo/v1/echo_grpckit.ts`);
});
afterAll(async () => {
  await sdk?.shutdown();
});

describe("client span peer attributes", () => {
  it("a name target: the span names the peer the final attempt (here the retry) connected to", async () => {
    let n = 0;
    const s = await startServer((server) =>
      gen.addPartialEchoService(server, {
        async echo(req: { text: string }) {
          if (++n === 1) throw new GrpcError(Status.UNAVAILABLE, "first attempt fails"); // Echo is NO_SIDE_EFFECTS: retried
          return { text: req.text };
        },
      }),
    );
    const port = Number(s.address.split(":")[1]);
    sdk.exporter.reset();
    const client = new gen.EchoServiceClient(`localhost:${port}`, insecure(), { "grpc.dns_min_time_between_resolutions_ms": 0 });
    await client.echo({ text: "x" });
    const spans = await waitForSpans(sdk, 2);
    const span = spans.find((x) => x.kind === SpanKind.CLIENT)!;
    expect(span.attributes[ATTR_SERVER_ADDRESS]).toBe("localhost");
    expect(span.attributes[ATTR_NETWORK_PEER_ADDRESS]).toMatch(/^(127\.0\.0\.1|::1)$/);
    expect(span.attributes[ATTR_NETWORK_PEER_PORT]).toBe(port);
    expect(n).toBe(2);
    client.close();
    await s.stop();
  });
});
