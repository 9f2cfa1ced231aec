// serveProduction on real grpc-js servers on loopback: explicit credentials
// (insecure and TLS made by openssl), the kit's shutdown, its errors; with
// health on (grpc-health-check through the health module), Check and Watch
// from clients generated from Debian's grpc-proto, on the main port and on
// the separate plaintext probe port next to a TLS main port.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { Status } from "@grpckit/runtime";
import * as production from "@grpckit/runtime/production";
import { serveProduction, type ProductionKit } from "@grpckit/runtime/production";
import { channelCredentialsFromFiles, serverCredentialsFromFiles } from "@grpckit/runtime/security";
import { createTestPki, type IssuedCert, type TestPki } from "./support/certs.js";
import { loadEcho, sleep, waitFor, type EchoModule } from "./support/echo.js";
import { insecure } from "./support/grpc.js";
import { runProtoc } from "./support/protoc.js";

/** True once the health module (branch wt-health) is merged. */
const hasHealth = typeof (production as Record<string, unknown>)["addHealthService"] === "function";
const grpcProto = "/usr/share/grpc-proto";
const SERVING = 1;
const NOT_SERVING = 2;
const echoImpl = { async echo(req: { text: string }) { return { text: req.text }; } };
const outcome = (p: Promise<unknown>) => p.then(() => "OK", (e: { code?: number }) => e.code);

let gen: EchoModule;
let pki: TestPki;
let serverCert: IssuedCert;
beforeAll(async () => {
  gen = await loadEcho();
  pki = createTestPki();
  serverCert = pki.issue("server", { cn: "server", sans: ["DNS:localhost", "IP:127.0.0.1"] });
});
afterAll(() => pki?.remove());

function echoServer(): Server {
  const server = new Server(production.productionServerOptions());
  gen.addPartialEchoService(server, echoImpl);
  return server;
}

const tlsClientCreds = () => channelCredentialsFromFiles({ ca: pki.ca.cert });

describe("serveProduction without health", () => {
  it("listens with explicit insecure credentials, serves, and shuts down once", async () => {
    const kit = serveProduction(echoServer(), { health: false, shutdownGraceMs: 2000 });
    expect(kit.health).toBeUndefined();
    const port = await kit.listen("127.0.0.1:0", ServerCredentials.createInsecure());
    expect(port).toBeGreaterThan(0);
    expect(kit.healthProbePort).toBeUndefined();
    const client = new gen.EchoServiceClient(`127.0.0.1:${port}`, insecure());
    expect((await client.echo({ text: "hi" }, { timeoutMs: 5000 })).text).toBe("hi");
    await expect(kit.listen("127.0.0.1:0", ServerCredentials.createInsecure())).rejects.toThrow(/listen\(\) may be called once/);
    const down = kit.shutdown();
    expect(kit.shutdown()).toBe(down);
    const result = await down;
    expect(result.forced).toBe(false);
    expect(result.durationMs).toBeLessThan(2000);
    client.close();
  });

  it("listens with TLS credentials", async () => {
    const kit = serveProduction(echoServer(), { health: false });
    const port = await kit.listen("127.0.0.1:0", serverCredentialsFromFiles({ cert: serverCert.cert, key: serverCert.key }));
    const tls = new gen.EchoServiceClient(`127.0.0.1:${port}`, tlsClientCreds());
    expect((await tls.echo({ text: "secure" }, { timeoutMs: 5000 })).text).toBe("secure");
    tls.close();
    await kit.shutdown();
  });

  it("refuses healthPort without health", () => {
    expect(() => serveProduction(new Server(), { health: false, healthPort: 0 })).toThrow(new TypeError("serveProduction: healthPort needs health"));
  });
});

describe.skipIf(!hasHealth)("serveProduction with health (needs the wt-health module)", () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let grpcGen: any;
  beforeAll(async () => {
    const out = runProtoc({ includes: [grpcProto], files: ["grpc/health/v1/health.proto", "grpc/reflection/v1/reflection.proto"], grpckitOpt: "target=ts", esOpt: "target=ts" });
    grpcGen = { ...(await import(`${out}/grpc/health/v1/health_grpckit.ts`)), ...(await import(`${out}/grpc/reflection/v1/reflection_grpckit.ts`)) };
  });

  async function check(address: string, service: string, creds = insecure()): Promise<number | string> {
    const client = new grpcGen.HealthClient(address, creds);
    try {
      return (await client.check({ service }, { timeoutMs: 5000 })).status;
    } catch (err) {
      return `error ${(err as { code: number }).code}`;
    } finally {
      client.close();
    }
  }

  it("reports '' and the registered services SERVING, then NOT_SERVING while draining", async () => {
    const kit: ProductionKit = serveProduction(echoServer(), { drainDelayMs: 300 });
    const port = await kit.listen("127.0.0.1:0", ServerCredentials.createInsecure());
    const address = `127.0.0.1:${port}`;
    expect(await check(address, "")).toBe(SERVING);
    expect(await check(address, "demo.v1.EchoService")).toBe(SERVING);
    expect(await check(address, "no.such.Service")).toBe(`error ${Status.NOT_FOUND}`);
    const down = kit.shutdown();
    await sleep(50); // inside drainDelayMs: still answering, NOT_SERVING
    expect(await check(address, "")).toBe(NOT_SERVING);
    expect(await check(address, "demo.v1.EchoService")).toBe(NOT_SERVING);
    expect((await down).forced).toBe(false);
  });

  it("serves health on a plaintext probe port next to a TLS main port, and shuts it down with the kit", async () => {
    const kit = serveProduction(echoServer(), { healthPort: 0, drainDelayMs: 300 });
    const port = await kit.listen("127.0.0.1:0", serverCredentialsFromFiles({ cert: serverCert.cert, key: serverCert.key }));
    const probe = `127.0.0.1:${kit.healthProbePort}`;
    expect(kit.healthProbePort).toBeGreaterThan(0);
    expect(kit.healthProbePort).not.toBe(port);
    expect(await check(probe, "")).toBe(SERVING);
    expect(await check(probe, "demo.v1.EchoService")).toBe(SERVING);
    expect(await check(`127.0.0.1:${port}`, "", tlsClientCreds())).toBe(SERVING);
    expect(await check(`127.0.0.1:${port}`, "")).toBe(`error ${Status.UNAVAILABLE}`); // plaintext on the TLS port

    // The probe only serves Health.
    const echoOnProbe = new gen.EchoServiceClient(probe, insecure());
    expect(await outcome(echoOnProbe.echo({ text: "x" }, { timeoutMs: 5000 }))).toBe(Status.UNIMPLEMENTED);
    echoOnProbe.close();

    const watcher = new grpcGen.HealthClient(probe, insecure());
    const seen: number[] = [];
    const watch = outcome((async () => {
      for await (const r of watcher.watch({ service: "" })) seen.push(r.status);
    })());
    await waitFor(() => seen.length >= 1, 5000, "first Watch response");
    const down = kit.shutdown();
    await waitFor(() => seen.includes(NOT_SERVING), 5000, "NOT_SERVING on Watch");
    expect(await check(probe, "")).toBe(NOT_SERVING); // the probe still answers during the drain delay
    await down;
    expect(await watch).toBe("OK"); // drain ends Watch streams
    expect(seen[0]).toBe(SERVING);
    expect(seen.at(-1)).toBe(NOT_SERVING);
    watcher.close();
    expect(await check(probe, "")).toBe(`error ${Status.UNAVAILABLE}`); // probe server down too
  });

  it("serves reflection only when asked, with the allow-list", async () => {
    const list = async (kit: ProductionKit) => {
      const port = await kit.listen("127.0.0.1:0", ServerCredentials.createInsecure());
      const client = new grpcGen.ServerReflectionClient(`127.0.0.1:${port}`, insecure());
      const names: string[] = [];
      const result = await outcome((async () => {
        for await (const r of client.serverReflectionInfo([{ messageRequest: { case: "listServices", value: "" } }], { timeoutMs: 5000 })) {
          names.push(...r.messageResponse.value.service.map((s: { name: string }) => s.name));
        }
      })());
      client.close();
      await kit.shutdown();
      return result === "OK" ? names.sort() : result;
    };
    expect(await list(serveProduction(echoServer()))).toBe(Status.UNIMPLEMENTED); // off by default
    const withEcho = await list(serveProduction(echoServer(), { reflection: true }));
    expect(withEcho).toContain("demo.v1.EchoService");
    const allowNone = await list(serveProduction(echoServer(), { reflection: true, reflectionServices: [] }));
    expect(allowNone).not.toContain("demo.v1.EchoService");
  });
});
