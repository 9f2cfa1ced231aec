// TLS and mTLS credentials from PEM files made by openssl, on real grpc-js
// servers on loopback: verification, refusal, the peer identity a handler
// sees, and certificate reload without a restart.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { status as Status } from "@grpc/grpc-js";
import { channelCredentialsFromFiles, serverCredentialsFromFiles } from "@grpckit/runtime/security";
import { SecretVolume, createTestPki, type IssuedCert, type TestPki } from "./support/certs.js";
import { callWhoAmI, startWhoAmI, type CallOutcome, type WhoAmIServer } from "./support/whoami.js";

let pki: TestPki;
let other: TestPki;
let serverCert: IssuedCert;
let clientCert: IssuedCert;
let strangerCert: IssuedCert;
const loopback = ["DNS:localhost", "IP:127.0.0.1"];

beforeAll(() => {
  pki = createTestPki();
  other = createTestPki("another CA");
  serverCert = pki.issue("server", { cn: "server", sans: loopback });
  clientCert = pki.issue("client", { cn: "billing", sans: ["URI:spiffe://grpckit.test/ns/prod/sa/billing", "DNS:billing.internal", "email:ops@grpckit.test"] });
  strangerCert = other.issue("stranger", { cn: "stranger", sans: ["DNS:stranger"] });
});
afterAll(() => {
  pki?.remove();
  other?.remove();
});

async function withServer<T>(server: Promise<WhoAmIServer>, body: (s: WhoAmIServer) => Promise<T>): Promise<T> {
  const s = await server;
  try {
    return await body(s);
  } finally {
    await s.stop();
  }
}

describe("TLS", () => {
  it("a client trusting the CA connects; the handler sees no client identity; the client sees the server certificate", async () => {
    await withServer(startWhoAmI(serverCredentialsFromFiles({ cert: serverCert.cert, key: serverCert.key })), async (s) => {
      const out = await callWhoAmI(s.address, channelCredentialsFromFiles({ ca: pki.ca.cert }));
      expect(out.error).toBeUndefined();
      expect(out.seen!.peer).toBeUndefined();
      expect(out.server!.serialNumber).toBe(serverCert.serial);
      expect(out.server!.subjectAltNames).toEqual({ dns: ["localhost"], ip: ["127.0.0.1"], uri: [], email: [] });
      expect(out.server!.issuer["CN"]).toBe("grpckit test CA");
    });
  });

  it("a client that does not trust the server's CA fails UNAVAILABLE", async () => {
    await withServer(startWhoAmI(serverCredentialsFromFiles({ cert: serverCert.cert, key: serverCert.key })), async (s) => {
      const out = await callWhoAmI(s.address, channelCredentialsFromFiles({ ca: other.ca.cert }));
      expect(out.error?.code).toBe(Status.UNAVAILABLE);
      expect(s.seen).toHaveLength(0);
    });
  });
});

describe("mTLS", () => {
  const mtls = () => serverCredentialsFromFiles({ cert: serverCert.cert, key: serverCert.key, ca: pki.ca.cert });

  it("verifies the client certificate; the handler gets its subject, SANs and serial", async () => {
    await withServer(startWhoAmI(mtls()), async (s) => {
      const out = await callWhoAmI(s.address, channelCredentialsFromFiles({ ca: pki.ca.cert, cert: clientCert.cert, key: clientCert.key }));
      expect(out.error).toBeUndefined();
      const peer = out.seen!.peer!;
      expect(peer.subject).toEqual({ O: "grpckit tests", CN: "billing" });
      expect(peer.subjectAltNames).toEqual({
        uri: ["spiffe://grpckit.test/ns/prod/sa/billing"],
        dns: ["billing.internal"],
        email: ["ops@grpckit.test"],
        ip: [],
      });
      expect(peer.serialNumber).toBe(clientCert.serial);
      expect(peer.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    });
  });

  it("refuses a client without a certificate, and one with a certificate from another CA; the handler never runs", async () => {
    await withServer(startWhoAmI(mtls()), async (s) => {
      const bare = await callWhoAmI(s.address, channelCredentialsFromFiles({ ca: pki.ca.cert }));
      expect(bare.error?.code).toBe(Status.UNAVAILABLE);
      const stranger = await callWhoAmI(s.address, channelCredentialsFromFiles({ ca: pki.ca.cert, cert: strangerCert.cert, key: strangerCert.key }));
      expect(stranger.error?.code).toBe(Status.UNAVAILABLE);
      expect(s.seen).toHaveLength(0);
      const good = await callWhoAmI(s.address, channelCredentialsFromFiles({ ca: pki.ca.cert, cert: clientCert.cert, key: clientCert.key }));
      expect(good.error).toBeUndefined();
      expect(s.seen).toHaveLength(1);
    });
  });
});

/** Call on fresh connections until `done(outcome)` holds; bounded in count and time. */
async function until(call: () => Promise<CallOutcome>, done: (o: CallOutcome) => boolean, timeoutMs = 5000): Promise<{ outcome: CallOutcome; attempts: number }> {
  const end = Date.now() + timeoutMs;
  for (let attempts = 1; attempts <= 200; attempts++) {
    const outcome = await call();
    if (done(outcome)) return { outcome, attempts };
    if (Date.now() > end) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

describe("reload without restart (FileWatcherCertificateProvider)", () => {
  const refreshIntervalMs = 100;

  it("after the server's files are rotated, the next connection sees the new server certificate", async () => {
    const volume = new SecretVolume(mkdtempSync(join(pki.dir, "server-volume-")));
    volume.publish({ cert: serverCert.cert, key: serverCert.key, ca: pki.ca.cert });
    const creds = serverCredentialsFromFiles({ cert: volume.cert, key: volume.key, ca: volume.ca, refreshIntervalMs });
    await withServer(startWhoAmI(creds), async (s) => {
      const client = () => callWhoAmI(s.address, channelCredentialsFromFiles({ ca: pki.ca.cert, cert: clientCert.cert, key: clientCert.key }));
      const first = await until(client, (o) => o.error === undefined);
      expect(first.outcome.server!.serialNumber).toBe(serverCert.serial);
      const renewed = pki.issue("server-renewed", { cn: "server", sans: loopback });
      volume.publish({ cert: renewed.cert, key: renewed.key, ca: pki.ca.cert });
      const started = Date.now();
      const next = await until(client, (o) => o.server?.serialNumber === renewed.serial);
      expect(next.outcome.error).toBeUndefined();
      expect(next.outcome.seen!.peer!.serialNumber).toBe(clientCert.serial);
      // One refresh interval plus a read; generous for a loaded machine.
      expect(Date.now() - started).toBeLessThan(refreshIntervalMs * 20 + 2000);
    });
  });

  it("after the client's files are rotated, the server sees the new client certificate on the next connection", async () => {
    const volume = new SecretVolume(mkdtempSync(join(pki.dir, "client-volume-")));
    volume.publish({ cert: clientCert.cert, key: clientCert.key, ca: pki.ca.cert });
    const creds = channelCredentialsFromFiles({ ca: volume.ca, cert: volume.cert, key: volume.key, refreshIntervalMs });
    await withServer(startWhoAmI(serverCredentialsFromFiles({ cert: serverCert.cert, key: serverCert.key, ca: pki.ca.cert })), async (s) => {
      const first = await until(() => callWhoAmI(s.address, creds), (o) => o.error === undefined);
      expect(first.outcome.seen!.peer!.serialNumber).toBe(clientCert.serial);
      const renewed = pki.issue("client-renewed", { cn: "billing", sans: ["DNS:billing.internal"] });
      volume.publish({ cert: renewed.cert, key: renewed.key, ca: pki.ca.cert });
      const next = await until(() => callWhoAmI(s.address, creds), (o) => o.seen?.peer?.serialNumber === renewed.serial);
      expect(next.outcome.seen!.peer!.subjectAltNames.dns).toEqual(["billing.internal"]);
    });
  });

  it("a server that starts trusting another CA accepts that CA's clients after the reload", async () => {
    const volume = new SecretVolume(mkdtempSync(join(pki.dir, "ca-volume-")));
    volume.publish({ cert: serverCert.cert, key: serverCert.key, ca: pki.ca.cert });
    const creds = serverCredentialsFromFiles({ cert: volume.cert, key: volume.key, ca: volume.ca, refreshIntervalMs });
    await withServer(startWhoAmI(creds), async (s) => {
      const stranger = () => callWhoAmI(s.address, channelCredentialsFromFiles({ ca: pki.ca.cert, cert: strangerCert.cert, key: strangerCert.key }));
      expect((await stranger()).error?.code).toBe(Status.UNAVAILABLE);
      volume.publish({ cert: serverCert.cert, key: serverCert.key, ca: other.ca.cert });
      const accepted = await until(stranger, (o) => o.error === undefined);
      expect(accepted.outcome.seen!.peer!.subject["CN"]).toBe("stranger");
    });
  });
});

describe("misconfiguration fails at startup", () => {
  it("names the unreadable file", () => {
    expect(() => serverCredentialsFromFiles({ cert: "/nonexistent/tls.crt", key: serverCert.key })).toThrow(/cert file "\/nonexistent\/tls.crt" cannot be read: ENOENT/);
    expect(() => serverCredentialsFromFiles({ cert: serverCert.cert, key: serverCert.key, ca: "/nonexistent/ca.crt", refreshIntervalMs: 1000 })).toThrow(/ca file/);
  });

  it("rejects a certificate without its key, a bad interval, and reload without a CA on the client", () => {
    expect(() => channelCredentialsFromFiles({ cert: clientCert.cert })).toThrow(TypeError);
    expect(() => serverCredentialsFromFiles({ cert: serverCert.cert, key: serverCert.key, refreshIntervalMs: 0 })).toThrow(TypeError);
    expect(() => serverCredentialsFromFiles({ cert: serverCert.cert, key: serverCert.key, refreshIntervalMs: 1.5 })).toThrow(TypeError);
    expect(() => channelCredentialsFromFiles({ cert: clientCert.cert, key: clientCert.key, refreshIntervalMs: 1000 })).toThrow(/needs a ca file/);
  });
});
