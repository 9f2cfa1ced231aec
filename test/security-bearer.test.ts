// Bearer tokens as grpc-js call credentials, against real grpc-js servers on
// loopback (TLS from openssl certificates): the token reaches the handler,
// one fetch serves concurrent calls, refresh before expiry, failures as
// UNAUTHENTICATED/UNAVAILABLE without their text, and never on insecure
// channels unless explicitly allowed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Metadata, Server, ServerCredentials, credentials, makeGenericClientConstructor, status as Status, type ServiceError } from "@grpc/grpc-js";
import { GrpcError } from "@grpckit/runtime";
import {
  bearerCallCredentials,
  bearerTokenInterceptor,
  channelCredentialsFromFiles,
  createBearerTokens,
  serverCredentialsFromFiles,
  withBearerToken,
  type AccessToken,
  type TokenSource,
} from "@grpckit/runtime/security";
import { createTestPki, type TestPki } from "./support/certs.js";
import { loadEcho, sleep, type EchoModule } from "./support/echo.js";
import { callWhoAmI, startWhoAmI, type WhoAmIServer } from "./support/whoami.js";

let pki: TestPki;
let tls: WhoAmIServer;
let plain: WhoAmIServer;
let trust: () => ReturnType<typeof channelCredentialsFromFiles>;

beforeAll(async () => {
  pki = createTestPki();
  const server = pki.issue("server", { cn: "server", sans: ["DNS:localhost", "IP:127.0.0.1"] });
  tls = await startWhoAmI(serverCredentialsFromFiles({ cert: server.cert, key: server.key }));
  plain = await startWhoAmI(ServerCredentials.createInsecure());
  trust = () => channelCredentialsFromFiles({ ca: pki.ca.cert });
});
afterAll(async () => {
  await tls?.stop();
  await plain?.stop();
  pki?.remove();
});

/** A token source that counts its fetches and hands out `t1`, `t2`, ... */
function countingSource(opts: { delayMs?: number; lifetimeMs?: number } = {}): TokenSource & { fetches: number } {
  const source = async (): Promise<AccessToken> => {
    const n = ++source.fetches;
    if (opts.delayMs) await sleep(opts.delayMs);
    return { token: `t${n}`, expiresAtMs: opts.lifetimeMs === undefined ? undefined : Date.now() + opts.lifetimeMs };
  };
  source.fetches = 0;
  return source;
}

describe("bearerCallCredentials on TLS", () => {
  it("the token reaches the server handler as `authorization: Bearer <token>`", async () => {
    const tokens = createBearerTokens(countingSource());
    const out = await callWhoAmI(tls.address, withBearerToken(trust(), tokens));
    expect(out.error).toBeUndefined();
    expect(out.seen!.authorization).toEqual(["Bearer t1"]);
  });

  it("concurrent calls on a cold cache share one fetch", async () => {
    const source = countingSource({ delayMs: 100 });
    const creds = withBearerToken(trust(), createBearerTokens(source));
    const outs = await Promise.all(Array.from({ length: 20 }, () => callWhoAmI(tls.address, creds)));
    expect(source.fetches).toBe(1);
    expect(outs.map((o) => o.seen?.authorization[0])).toEqual(Array(20).fill("Bearer t1"));
  });

  it("near expiry: calls keep the current token while one background fetch replaces it", async () => {
    const source = countingSource({ lifetimeMs: 1600 });
    const creds = withBearerToken(trust(), createBearerTokens(source, { refreshBeforeExpiryMs: 1000 }));
    expect((await callWhoAmI(tls.address, creds)).seen!.authorization).toEqual(["Bearer t1"]);
    expect((await callWhoAmI(tls.address, creds)).seen!.authorization).toEqual(["Bearer t1"]);
    expect(source.fetches).toBe(1);
    await sleep(700); // now inside the refresh window, t1 still valid
    const stale = await Promise.all(Array.from({ length: 10 }, () => callWhoAmI(tls.address, creds)));
    expect(stale.map((o) => o.seen?.authorization[0])).toEqual(Array(10).fill("Bearer t1"));
    expect(source.fetches).toBe(2);
    expect((await callWhoAmI(tls.address, creds)).seen!.authorization).toEqual(["Bearer t2"]);
  });

  it("an expired token is not sent: the call waits for the fresh one", async () => {
    const source = countingSource({ lifetimeMs: 150 });
    const creds = withBearerToken(trust(), createBearerTokens(source, { refreshBeforeExpiryMs: 0 }));
    expect((await callWhoAmI(tls.address, creds)).seen!.authorization).toEqual(["Bearer t1"]);
    await sleep(250);
    expect((await callWhoAmI(tls.address, creds)).seen!.authorization).toEqual(["Bearer t2"]);
  });

  it("a failing source fails the call UNAVAILABLE without its text; the handler never runs; the next call fetches again", async () => {
    const errors: unknown[] = [];
    let fail = true;
    const tokens = createBearerTokens(
      async () => {
        if (fail) throw new Error("token endpoint said: client_secret=hunter2 is wrong");
        return "recovered";
      },
      { onError: (e) => errors.push(e) },
    );
    const before = tls.seen.length;
    const out = await callWhoAmI(tls.address, withBearerToken(trust(), tokens));
    expect(out.error?.code).toBe(Status.UNAVAILABLE);
    expect(out.error?.details).not.toMatch(/hunter2|client_secret/);
    expect(out.error?.details).toMatch(/bearer token unavailable/);
    expect(tls.seen.length).toBe(before);
    expect(errors).toHaveLength(1);
    fail = false;
    expect((await callWhoAmI(tls.address, withBearerToken(trust(), tokens))).seen!.authorization).toEqual(["Bearer recovered"]);
  });

  it("a refused credential fails UNAUTHENTICATED; a malformed token too; neither leaks text", async () => {
    const refused = createBearerTokens(async () => {
      throw new GrpcError(Status.UNAUTHENTICATED, "refresh token revoked for user alice");
    });
    const a = await callWhoAmI(tls.address, withBearerToken(trust(), refused));
    expect(a.error?.code).toBe(Status.UNAUTHENTICATED);
    expect(a.error?.details).not.toMatch(/alice|revoked/);
    const malformed = createBearerTokens(async () => "line\nbreak");
    const b = await callWhoAmI(tls.address, withBearerToken(trust(), malformed));
    expect(b.error?.code).toBe(Status.UNAUTHENTICATED);
  });

  it("a hanging source times out after fetchTimeoutMs (UNAVAILABLE) and its signal aborts", async () => {
    let signal: AbortSignal | undefined;
    const tokens = createBearerTokens((s) => {
      signal = s;
      return new Promise<never>(() => {});
    }, { fetchTimeoutMs: 100 });
    const started = Date.now();
    const out = await callWhoAmI(tls.address, withBearerToken(trust(), tokens));
    expect(out.error?.code).toBe(Status.UNAVAILABLE);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(signal?.aborted).toBe(true);
  });
});

describe("insecure channels", () => {
  it("withBearerToken and grpc-js refuse to attach call credentials to an insecure channel", () => {
    const tokens = createBearerTokens(countingSource());
    expect(() => withBearerToken(credentials.createInsecure(), tokens)).toThrow(TypeError);
    expect(() => credentials.combineChannelCredentials(credentials.createInsecure(), bearerCallCredentials(tokens))).toThrow(/insecure/);
  });

  it("bearerTokenInterceptor needs allowInsecure: true", () => {
    const tokens = createBearerTokens(countingSource());
    // @ts-expect-error the option is required
    expect(() => bearerTokenInterceptor(tokens)).toThrow(TypeError);
    // @ts-expect-error only `true` is accepted
    expect(() => bearerTokenInterceptor(tokens, { allowInsecure: false })).toThrow(TypeError);
  });

  it("with allowInsecure the token reaches a plaintext server; one fetch for concurrent calls", async () => {
    const source = countingSource({ delayMs: 50 });
    const interceptor = bearerTokenInterceptor(createBearerTokens(source), { allowInsecure: true });
    const outs = await Promise.all(Array.from({ length: 5 }, () => callWhoAmI(plain.address, credentials.createInsecure(), { interceptors: [interceptor] })));
    expect(outs.map((o) => o.seen?.authorization)).toEqual(Array(5).fill(["Bearer t1"]));
    expect(source.fetches).toBe(1);
  });

  it("interceptor: a failed fetch, the deadline and a cancel end a call still waiting for its token; nothing reaches the server", async () => {
    const before = plain.seen.length;
    const failing = bearerTokenInterceptor(createBearerTokens(async () => { throw new Error("secret text"); }), { allowInsecure: true });
    const failed = await callWhoAmI(plain.address, credentials.createInsecure(), { interceptors: [failing] });
    expect(failed.error?.code).toBe(Status.UNAVAILABLE);
    expect(failed.error?.details).not.toMatch(/secret/);
    const hanging = bearerTokenInterceptor(createBearerTokens(() => new Promise<never>(() => {}), { fetchTimeoutMs: 5000 }), { allowInsecure: true });
    const late = await callWhoAmI(plain.address, credentials.createInsecure(), { interceptors: [hanging] }, 100);
    expect(late.error?.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(await cancelWhileWaiting(plain.address, hanging)).toBe(Status.CANCELLED);
    expect(plain.seen.length).toBe(before);
  });
});

/** Start a call through `interceptor`, cancel it after 50 ms, return the status code. */
async function cancelWhileWaiting(address: string, interceptor: ReturnType<typeof bearerTokenInterceptor>): Promise<number> {
  const id = (b: Buffer) => b;
  const Ctor = makeGenericClientConstructor({ whoAmI: { path: "/grpckit.test.WhoAmI/WhoAmI", requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } }, "W");
  const client = new Ctor(address, credentials.createInsecure(), { interceptors: [interceptor] });
  try {
    return await new Promise<number>((resolve) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const call = (client as any).whoAmI(Buffer.alloc(0), new Metadata(), (e: ServiceError | null) => resolve(e ? e.code : Status.OK));
      setTimeout(() => call.cancel(), 50);
    });
  } finally {
    client.close();
  }
}

describe("generated clients", () => {
  let gen: EchoModule;
  let server: Server;
  let address: string;
  const seen: string[][] = [];

  beforeAll(async () => {
    gen = await loadEcho();
    const cert = pki.issue("echo", { cn: "echo", sans: ["IP:127.0.0.1"] });
    server = new Server();
    gen.addPartialEchoService(server, {
      async echo(req: { text: string }, ctx: { requestMetadata: Metadata }) {
        seen.push(ctx.requestMetadata.get("authorization").map(String));
        return { text: req.text };
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", serverCredentialsFromFiles({ cert: cert.cert, key: cert.key }), (e, p) => (e ? reject(e) : resolve(p))),
    );
    address = `127.0.0.1:${port}`;
  });
  afterAll(() => server?.forceShutdown());

  it("take withBearerToken credentials; the handler reads the token from the request metadata", async () => {
    const client = new gen.EchoServiceClient(address, withBearerToken(trust(), createBearerTokens(async () => ({ token: "gen-token", expiresAtMs: Date.now() + 3_600_000 }))));
    try {
      expect((await client.echo({ text: "hi" })).text).toBe("hi");
      expect((await client.echo({ text: "again" })).text).toBe("again");
    } finally {
      client.close();
    }
    expect(seen).toEqual([["Bearer gen-token"], ["Bearer gen-token"]]);
  });
});
