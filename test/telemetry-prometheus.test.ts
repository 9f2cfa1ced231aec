// The generated service's metrics through @opentelemetry/exporter-prometheus:
// a MeterProvider with a PrometheusExporter whose handler serves a real HTTP
// endpoint on 127.0.0.1:0, calls through a generated client, then a scrape
// of the endpoint over HTTP; metric names, labels and counts asserted.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server as HttpServer } from "node:http";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { GrpcError, Status } from "@grpckit/runtime";
import { loadEcho, type EchoModule } from "./support/echo.js";
import { insecure, startServer } from "./support/grpc.js";

/* eslint-disable @typescript-eslint/no-explicit-any */
let gen: EchoModule;
let exporter: PrometheusExporter;
let meterProvider: MeterProvider;
let http: HttpServer;
let metricsUrl: string;
let stop: () => Promise<void>;
let client: any;
let dupClient: any;

beforeAll(async () => {
  gen = await loadEcho();
  // The exporter treats port 0 as "unset" (it would take 9464): mount its
  // handler on our own HTTP server instead, as an application with an
  // existing server would.
  exporter = new PrometheusExporter({ preventServerStart: true });
  meterProvider = new MeterProvider({ readers: [exporter] });
  http = createServer((req, res) => exporter.getMetricsRequestHandler(req, res));
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const addr = http.address() as { port: number };
  metricsUrl = `http://127.0.0.1:${addr.port}/metrics`;
  const telemetry = { meterProvider, semconv: "old" };
  const s = await startServer((server) =>
    gen.addPartialEchoService(
      server,
      {
        async echo(req: any) {
          if (req.failCode !== 0) throw new GrpcError(req.failCode, "asked to fail");
          return { text: req.text };
        },
        async *expand(req: any) {
          for (let i = 0; i < req.count; i++) yield { text: req.text, index: i };
        },
      },
      { telemetry },
    ),
  );
  stop = s.stop;
  client = new gen.EchoServiceClient(s.address, insecure(), { telemetry });
  dupClient = new gen.EchoServiceClient(s.address, insecure(), { telemetry: { meterProvider, semconv: "dup" } });
});
afterAll(async () => {
  client?.close();
  dupClient?.close();
  await stop?.();
  await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
  await meterProvider?.shutdown();
});

/** One sample line of the exposition format. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parse the text exposition format (what Prometheus scrapes); label values here have no escapes. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)) labels[k!] = v!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

async function scrape(): Promise<ReturnType<typeof parseExposition>> {
  const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
  const text = await res.text();
  if (process.env["SHOW_SCRAPE"]) console.log(text);
  return parseExposition(text);
}

const find = (samples: Sample[], name: string, labels: Record<string, string>) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

describe("Prometheus scrape of the generated metrics", () => {
  it("exposes rpc.server.duration and rpc.client.duration as histograms, labelled by method, service and status code, with exact counts", async () => {
    for (let i = 0; i < 3; i++) await client.echo({ text: `ok${i}` });
    for (let i = 0; i < 2; i++) await expect(client.echo({ text: "nf", failCode: Status.NOT_FOUND })).rejects.toMatchObject({ code: Status.NOT_FOUND });
    const streamed: unknown[] = [];
    for await (const r of client.expand({ text: "s", count: 4 })) streamed.push(r);
    expect(streamed).toHaveLength(4);
    // The server records its point when the call ends, right after the client saw the status.
    await new Promise((r) => setTimeout(r, 100));

    const { samples, types } = await scrape();
    for (const side of ["server", "client"]) {
      const name = `rpc_${side}_duration`;
      expect(types.get(name)).toBe("histogram");
      const echo = { rpc_service: "demo.v1.EchoService", rpc_method: "Echo", rpc_system: "grpc" };
      expect(find(samples, `${name}_count`, { ...echo, rpc_grpc_status_code: "0" }).map((s) => s.value)).toEqual([3]);
      expect(find(samples, `${name}_count`, { ...echo, rpc_grpc_status_code: String(Status.NOT_FOUND) }).map((s) => s.value)).toEqual([2]);
      expect(find(samples, `${name}_count`, { rpc_service: "demo.v1.EchoService", rpc_method: "Expand", rpc_grpc_status_code: "0" }).map((s) => s.value)).toEqual([1]);
      // Cumulative buckets end with +Inf equal to the count; the sum is a duration in milliseconds.
      const inf = find(samples, `${name}_bucket`, { ...echo, rpc_grpc_status_code: "0", le: "+Inf" });
      expect(inf.map((s) => s.value)).toEqual([3]);
      const sum = find(samples, `${name}_sum`, { ...echo, rpc_grpc_status_code: "0" })[0]!;
      expect(sum.value).toBeGreaterThan(0);
      expect(sum.value).toBeLessThan(3 * 10_000);
    }
    // Streaming calls also get messages per RPC (server stream: 4 responses, 1 request).
    expect(find(samples, "rpc_server_responses_per_rpc_sum", { rpc_method: "Expand" }).map((s) => s.value)).toEqual([4]);
    expect(find(samples, "rpc_client_responses_per_rpc_sum", { rpc_method: "Expand" }).map((s) => s.value)).toEqual([4]);
    // Peer addresses and metadata are not metric labels (cardinality).
    for (const s of samples.filter((x) => x.name.startsWith("rpc_"))) {
      expect(Object.keys(s.labels).filter((k) => k.startsWith("network_peer") || k.includes("metadata"))).toEqual([]);
    }
  });

  it("with the stable conventions (dup), rpc.client.call.duration in seconds is labelled with the status name", async () => {
    await dupClient.echo({ text: "dup" });
    await expect(dupClient.echo({ text: "x", failCode: Status.PERMISSION_DENIED })).rejects.toMatchObject({ code: Status.PERMISSION_DENIED });
    const { samples, types } = await scrape();
    expect(types.get("rpc_client_call_duration")).toBe("histogram");
    const method = { rpc_method: "demo.v1.EchoService/Echo" };
    expect(find(samples, "rpc_client_call_duration_count", { ...method, rpc_status_code: "OK" }).map((s) => s.value)).toEqual([1]);
    const denied = find(samples, "rpc_client_call_duration_count", { ...method, rpc_status_code: "PERMISSION_DENIED" });
    expect(denied.map((s) => s.value)).toEqual([1]);
    expect(denied[0]!.labels["error_type"]).toBe("PERMISSION_DENIED");
    const sum = find(samples, "rpc_client_call_duration_sum", { ...method, rpc_status_code: "OK" })[0]!;
    expect(sum.value).toBeLessThan(10); // seconds
  });
});
