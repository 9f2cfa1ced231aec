// Server-side per-call authentication (ServerOptions.authenticate, bearerAuthenticator)
// on real grpc-js servers on loopback, plaintext and mTLS (certificates made by openssl).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Server, ServerCredentials, type ChannelCredentials } from "@grpc/grpc-js";
import { GrpcError, Status, bearerAuthenticator, type HandlerContext, type ServerHook } from "@grpckit/runtime";
import { channelCredentialsFromFiles, serverCredentialsFromFiles } from "@grpckit/runtime/security";
import { createTestPki, type TestPki } from "./support/certs.js";
import { loadEcho, startEcho, type EchoModule, type EchoPair } from "./support/echo.js";

interface User {
  readonly name: string;
}

/** Handlers that count their executions and answer with the caller's principal. */
function countingImpl(executions: { n: number }) {
  const who = (ctx: HandlerContext) => (ctx.principal as User | undefined)?.name ?? "nobody";
  return {
    async echo(_req: unknown, ctx: HandlerContext) {
      executions.n++;
      return { text: who(ctx) };
    },
    async *expand(_req: unknown, ctx: HandlerContext) {
      executions.n++;
      yield { text: who(ctx) };
    },
    async collect(reqs: AsyncIterable<unknown>, ctx: HandlerContext) {
      executions.n++;
      let count = 0;
      for await (const _ of reqs) count++;
      return { count, joined: who(ctx) };
    },
    async *chat(reqs: AsyncIterable<unknown>, ctx: HandlerContext) {
      executions.n++;
      for await (const _ of reqs) yield { text: who(ctx) };
    },
  };
}

const bearer = (token: string) => ({ metadata: { authorization: `Bearer ${token}` } });
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as GrpcError);

describe("authenticate with bearer tokens", { timeout: 20_000 }, () => {
  let gen: EchoModule;
  let pair: EchoPair;
  const executions = { n: 0 };
  const authErrors: unknown[] = [];
  let hookRequests = 0;
  const countingHook: ServerHook = () => ({ request: () => void hookRequests++ });

  beforeAll(async () => {
    gen = await loadEcho();
    pair = await startEcho(gen, countingImpl(executions), {
      hooks: [countingHook],
      onAuthenticationError: (error: unknown) => authErrors.push(error),
      authenticate: bearerAuthenticator(async (token) => {
        if (token === "alice-token") return { name: "alice" } satisfies User;
        if (token === "mallory-token") throw new GrpcError(Status.PERMISSION_DENIED, "not allowed");
        if (token === "broken-token") throw new Error("signature check failed: key id 7 unknown");
        return undefined;
      }),
    });
  });
  afterAll(() => pair?.close());
  const reset = () => {
    executions.n = 0;
    authErrors.length = 0;
    hookRequests = 0;
  };

  it("missing, malformed and unknown tokens: UNAUTHENTICATED \"unauthenticated\", the handler and the request hooks never run", async () => {
    reset();
    const outcomes = [
      await failure(pair.client.echo({})),
      await failure(pair.client.echo({}, { metadata: { authorization: "Basic YWxpY2U6cHc=" } })),
      await failure(pair.client.echo({}, bearer("eve-token"))),
      await failure(pair.client.echo({}, bearer("broken-token"))),
    ];
    for (const err of outcomes) {
      expect(err).toBeInstanceOf(GrpcError);
      expect([err?.code, err?.rawMessage]).toEqual([Status.UNAUTHENTICATED, "unauthenticated"]);
    }
    expect(executions.n).toBe(0);
    expect(hookRequests).toBe(0);
    expect(authErrors).toHaveLength(4);
    expect((authErrors[3] as Error).message).toBe("signature check failed: key id 7 unknown");
  });

  it("PERMISSION_DENIED thrown by verify reaches the client with its message; the handler never runs", async () => {
    reset();
    const err = await failure(pair.client.echo({}, bearer("mallory-token")));
    expect([err?.code, err?.rawMessage]).toEqual([Status.PERMISSION_DENIED, "not allowed"]);
    expect(executions.n).toBe(0);
  });

  it("a good token: the handler runs once per call with ctx.principal, for every method kind", async () => {
    reset();
    const o = bearer("alice-token");
    expect((await pair.client.echo({}, o)).text).toBe("alice");
    const streamed: string[] = [];
    for await (const r of pair.client.expand({}, o)) streamed.push(r.text);
    const summary = await pair.client.collect([{}, {}], o);
    for await (const r of pair.client.chat([{}], o)) streamed.push(r.text);
    expect(streamed).toEqual(["alice", "alice"]);
    expect([summary.count, summary.joined]).toEqual([2, "alice"]);
    expect(executions.n).toBe(4);
    expect(hookRequests).toBe(1 + 1 + 2 + 1);
  });

  it("streaming methods are refused before the handler too", async () => {
    reset();
    const errs = [
      await failure((async () => { for await (const _ of pair.client.expand({}, bearer("eve-token"))); })()),
      await failure(pair.client.collect([{}, {}], bearer("eve-token"))),
      await failure((async () => { for await (const _ of pair.client.chat([{}], bearer("eve-token"))); })()),
    ];
    expect(errs.map((e) => e?.code)).toEqual([Status.UNAUTHENTICATED, Status.UNAUTHENTICATED, Status.UNAUTHENTICATED]);
    expect(executions.n).toBe(0);
    expect(hookRequests).toBe(0);
  });

  it("without authenticate, ctx.principal is undefined", async () => {
    const executionsOpen = { n: 0 };
    const open = await startEcho(gen, countingImpl(executionsOpen));
    try {
      expect((await open.client.echo({})).text).toBe("nobody");
      expect(executionsOpen.n).toBe(1);
    } finally {
      await open.close();
    }
  });
});

describe("authenticate with the verified client certificate (mTLS)", { timeout: 30_000 }, () => {
  let pki: TestPki;
  let gen: EchoModule;
  let server: Server;
  let address: string;
  const executions = { n: 0 };
  const seenIdentities: unknown[] = [];
  beforeAll(async () => {
    gen = await loadEcho();
    pki = createTestPki();
    const serverCert = pki.issue("server", { cn: "server", sans: ["DNS:localhost", "IP:127.0.0.1"] });
    server = new Server();
    gen.addPartialEchoService(server, countingImpl(executions), {
      authenticate: (ctx: HandlerContext): User => {
        seenIdentities.push(ctx.peerIdentity);
        const uris = ctx.peerIdentity?.subjectAltNames.uri ?? [];
        if (uris.includes("spiffe://grpckit.test/sa/billing")) return { name: "billing" };
        throw new GrpcError(Status.PERMISSION_DENIED, "workload not allowed");
      },
    });
    const creds = serverCredentialsFromFiles({ cert: serverCert.cert, key: serverCert.key, ca: pki.ca.cert });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", creds, (e, p) => (e ? reject(e) : resolve(p))));
    address = `localhost:${port}`;
  });
  afterAll(() => {
    server?.forceShutdown();
    pki?.remove();
  });
  const client = (creds: ChannelCredentials) => new gen.EchoServiceClient(address, creds);

  it("an allowed workload's certificate gives its principal; another certificate of the same CA gets PERMISSION_DENIED; the handler runs only for the allowed one", async () => {
    const billing = pki.issue("billing", { cn: "billing", sans: ["URI:spiffe://grpckit.test/sa/billing"] });
    const batch = pki.issue("batch", { cn: "batch", sans: ["URI:spiffe://grpckit.test/sa/batch"] });
    const good = client(channelCredentialsFromFiles({ ca: pki.ca.cert, cert: billing.cert, key: billing.key }));
    const other = client(channelCredentialsFromFiles({ ca: pki.ca.cert, cert: batch.cert, key: batch.key }));
    try {
      expect((await good.echo({})).text).toBe("billing");
      const err = await failure(other.echo({}));
      expect([err?.code, err?.rawMessage]).toEqual([Status.PERMISSION_DENIED, "workload not allowed"]);
      expect(executions.n).toBe(1);
      expect(seenIdentities).toHaveLength(2);
      expect((seenIdentities[0] as { serialNumber: string }).serialNumber).toBe(billing.serial);
      expect((seenIdentities[1] as { subject: { CN: string } }).subject.CN).toBe("batch");
    } finally {
      good.close();
      other.close();
    }
  });

  it("on a plaintext server ctx.peerIdentity is undefined", async () => {
    let identity: unknown = "unset";
    const plain = new Server();
    gen.addPartialEchoService(plain, {
      async echo(_req: unknown, ctx: HandlerContext) {
        identity = ctx.peerIdentity;
        return {};
      },
    });
    const port = await new Promise<number>((resolve, reject) => plain.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    const { credentials } = await import("@grpc/grpc-js");
    const c = new gen.EchoServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    try {
      await c.echo({});
      expect(identity).toBeUndefined();
    } finally {
      c.close();
      plain.forceShutdown();
    }
  });
});
