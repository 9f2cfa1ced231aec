import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Server } from "@grpc/grpc-js";
import { GrpcError, Status } from "@grpckit/runtime";
import { addHealthService, type HealthReporter } from "@grpckit/runtime/production";
import { insecure, startServer } from "./support/grpc.js";
import { generateLibraryHealthProto, generateWithDebianProtos, type Generated } from "./support/health-clients.js";

/**
 * `addHealthService` (grpc.health.v1 through grpc-health-check) on real grpc-js servers on
 * 127.0.0.1, checked with clients generated from Debian's grpc-proto health.proto (and, for
 * List, grpc-health-check's own newer health.proto) by protoc-gen-es + protoc-gen-grpckit.
 */
const services = `syntax = "proto3";
package hc.v1;
message Ping { string text = 1; }
service Early { rpc Echo(Ping) returns (Ping); }
service Late { rpc Echo(Ping) returns (Ping); }
`;

const SERVING = 1;
const NOT_SERVING = 2;
const SERVICE_UNKNOWN = 3;

let health: Generated;
let listHealth: Generated;
let svc: Generated;

beforeAll(() => {
  const out = generateWithDebianProtos(["grpc/health/v1/health.proto"], { "hc/v1/services.proto": services });
  const listOut = generateLibraryHealthProto();
  return Promise.all([
    import(`${out}/grpc/health/v1/health_grpckit.ts`).then((m) => (health = m)),
    import(`${out}/hc/v1/services_grpckit.ts`).then((m) => (svc = m)),
    import(`${listOut}/health/v1/health_grpckit.ts`).then((m) => (listHealth = m)),
  ]);
});

const echo = { echo: async (req: { text: string }) => ({ text: req.text }) };

/** A server with hc.v1.Early registered before addHealthService and hc.v1.Late after it. */
async function startHealthy(options?: { services?: readonly string[] }) {
  let reporter!: HealthReporter;
  const s = await startServer((server) => {
    svc.addEarly(server, echo);
    reporter = addHealthService(server, options);
    svc.addLate(server, echo);
  });
  const client = new health.HealthClient(s.address, insecure());
  const lister = new listHealth.HealthClient(s.address, insecure());
  const close = async () => {
    client.close();
    lister.close();
    await s.stop();
  };
  return { reporter, client, lister, server: s, close };
}

async function checkStatus(client: Generated, service: string): Promise<number | Status> {
  try {
    return (await client.check({ service })).status;
  } catch (err) {
    if (err instanceof GrpcError) return err.code;
    throw err;
  }
}

describe("Check and List", () => {
  let h: Awaited<ReturnType<typeof startHealthy>>;
  beforeAll(async () => (h = await startHealthy()));
  afterAll(() => h?.close());

  it('reports "" and every generated service as SERVING, also one registered after addHealthService', async () => {
    expect(await checkStatus(h.client, "")).toBe(SERVING);
    expect(await checkStatus(h.client, "hc.v1.Early")).toBe(SERVING);
    expect(await checkStatus(h.client, "hc.v1.Late")).toBe(SERVING);
  });

  it("answers NOT_FOUND for an unknown service", async () => {
    const err = await h.client.check({ service: "hc.v1.Nope" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrpcError);
    expect((err as GrpcError).code).toBe(Status.NOT_FOUND);
  });

  it("List answers every reported service (grpc-health-check has List)", async () => {
    const res = await h.lister.list({});
    const statuses = Object.fromEntries(Object.entries(res.statuses as Record<string, { status: number }>).map(([k, v]) => [k, v.status]));
    expect(statuses).toEqual({ "": SERVING, "hc.v1.Early": SERVING, "hc.v1.Late": SERVING });
  });

  it("setStatus changes what Check answers; only SERVING and NOT_SERVING are accepted", async () => {
    h.reporter.setStatus("hc.v1.Early", "NOT_SERVING");
    expect(await checkStatus(h.client, "hc.v1.Early")).toBe(NOT_SERVING);
    h.reporter.setStatus("hc.v1.Early", "SERVING");
    expect(await checkStatus(h.client, "hc.v1.Early")).toBe(SERVING);
    expect(() => h.reporter.setStatus("", "UNKNOWN" as "SERVING")).toThrow(TypeError);
  });
});

describe("an explicit service list", () => {
  it('reports "" and exactly the listed services', async () => {
    const h = await startHealthy({ services: ["custom.v1.Thing"] });
    try {
      expect(await checkStatus(h.client, "")).toBe(SERVING);
      expect(await checkStatus(h.client, "custom.v1.Thing")).toBe(SERVING);
      expect(await checkStatus(h.client, "hc.v1.Early")).toBe(Status.NOT_FOUND);
      const res = await h.lister.list({});
      expect(Object.keys(res.statuses).sort()).toEqual(["", "custom.v1.Thing"]);
    } finally {
      await h.close();
    }
  });
});

describe("Watch", () => {
  let h: Awaited<ReturnType<typeof startHealthy>>;
  beforeAll(async () => (h = await startHealthy()));
  afterAll(() => h?.close());

  it("sends the current status, then one message per change (a repeated status is not resent)", async () => {
    const it = h.client.watch({ service: "hc.v1.Late" })[Symbol.asyncIterator]();
    expect((await it.next()).value.status).toBe(SERVING);
    h.reporter.setStatus("hc.v1.Late", "NOT_SERVING");
    expect((await it.next()).value.status).toBe(NOT_SERVING);
    h.reporter.setStatus("hc.v1.Late", "NOT_SERVING");
    h.reporter.setStatus("hc.v1.Late", "SERVING");
    expect((await it.next()).value.status).toBe(SERVING);
    await it.return?.();
  });

  it("an unknown service is SERVICE_UNKNOWN until it gets a status", async () => {
    const it = h.client.watch({ service: "hc.v1.Later" })[Symbol.asyncIterator]();
    expect((await it.next()).value.status).toBe(SERVICE_UNKNOWN);
    h.reporter.setStatus("hc.v1.Later", "SERVING");
    expect((await it.next()).value.status).toBe(SERVING);
    await it.return?.();
  });
});

describe("drain() and addTo()", () => {
  it("a second plaintext server answers the same statuses; drain makes all NOT_SERVING and ends every Watch with OK", async () => {
    const h = await startHealthy();
    const probe = await startServer((server) => h.reporter.addTo(server));
    const probeClient = new health.HealthClient(probe.address, insecure());
    try {
      expect(await checkStatus(probeClient, "")).toBe(SERVING);
      expect(await checkStatus(probeClient, "hc.v1.Late")).toBe(SERVING);
      h.reporter.setStatus("hc.v1.Early", "NOT_SERVING");
      expect(await checkStatus(probeClient, "hc.v1.Early")).toBe(NOT_SERVING);
      h.reporter.setStatus("hc.v1.Early", "SERVING");

      const watched = [
        collect(h.client.watch({ service: "" })),
        collect(h.client.watch({ service: "hc.v1.Early" })),
        collect(probeClient.watch({ service: "" })),
        collect(probeClient.watch({ service: "hc.v1.Late" })),
      ];
      await Promise.all(watched.map((w) => w.first));
      h.reporter.drain();
      const results = await Promise.all(watched.map((w) => w.done));
      // each stream: the status it had, NOT_SERVING, then the end of the stream with status OK
      expect(results).toEqual([0, 1, 2, 3].map(() => ({ statuses: [SERVING, NOT_SERVING], error: undefined })));

      for (const client of [h.client, probeClient]) {
        for (const name of ["", "hc.v1.Early", "hc.v1.Late"]) expect(await checkStatus(client, name)).toBe(NOT_SERVING);
      }
      h.reporter.setStatus("", "SERVING"); // ignored once drained
      expect(await checkStatus(h.client, "")).toBe(NOT_SERVING);
      // a Watch after drain: the current status, then the end
      expect(await collect(h.client.watch({ service: "" })).done).toEqual({ statuses: [NOT_SERVING], error: undefined });
      h.reporter.drain(); // idempotent
    } finally {
      probeClient.close();
      await probe.stop();
      await h.close();
    }
  });

  it("a Watch the client cancelled before drain does not disturb it", async () => {
    const h = await startHealthy();
    try {
      const it = h.client.watch({ service: "" })[Symbol.asyncIterator]();
      expect((await it.next()).value.status).toBe(SERVING);
      await it.return?.();
      const open = collect(h.client.watch({ service: "" }));
      await open.first;
      h.reporter.drain();
      expect(await open.done).toEqual({ statuses: [SERVING, NOT_SERVING], error: undefined });
    } finally {
      await h.close();
    }
  });
});

/** Read a Watch stream to its end: `first` resolves at the first message, `done` at the end. */
function collect(stream: AsyncIterable<{ status: number }>) {
  const statuses: number[] = [];
  let firstSeen!: () => void;
  const first = new Promise<void>((resolve) => (firstSeen = resolve));
  const done = (async () => {
    let error: Status | undefined;
    try {
      for await (const m of stream) {
        statuses.push(m.status);
        firstSeen();
      }
    } catch (err) {
      error = err instanceof GrpcError ? err.code : Status.UNKNOWN;
      firstSeen();
    }
    return { statuses, error };
  })();
  return { first, done };
}

// keeps `Server` referenced for the type of startServer's callback
void Server;
