import { createServer, connect, type Server as NetServer, type Socket } from "node:net";
import { generateFixtures } from "./fixture.js";

/** The generated module of testdata/fixtures/resilience/v1/faults.proto (typed loosely: it exists once generated). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type FaultsModule = any;

let cached: Promise<FaultsModule> | undefined;

/** Generate (real protoc, our plugin with its default resilience options) and import the faults fixture. */
export function loadFaults(): Promise<FaultsModule> {
  cached ??= (async () => {
    const out = generateFixtures(["resilience/v1/faults.proto"], "target=ts,telemetry=false,validate=false");
    return import(`${out}/resilience/v1/faults_grpckit.ts`);
  })();
  return cached;
}

/** Counts handler executions per method and per request id. */
export class ExecutionCounter {
  readonly byId = new Map<string, number>();
  total = 0;
  count(id: string): number {
    this.total++;
    const n = (this.byId.get(id) ?? 0) + 1;
    this.byId.set(id, n);
    return n;
  }
  reset(): void {
    this.byId.clear();
    this.total = 0;
  }
}

/**
 * A deterministic failure pattern: a seeded PRNG (mulberry32) answering
 * "fail this execution?" with probability `rate`.
 */
export function seededFailures(seed: number, rate: number): () => boolean {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return r < rate;
  };
}

/**
 * A TCP proxy on 127.0.0.1 in front of `target`. While `dropping` is set,
 * it accepts connections and destroys them at once (the client sees the
 * connection close before any HTTP/2 exchange); `cutAll()` destroys every
 * open connection abruptly.
 */
export async function startTcpProxy(target: string): Promise<{ address: string; dropping: boolean; cutAll(): void; close(): Promise<void> }> {
  const [host, port] = target.split(":") as [string, string];
  const sockets = new Set<Socket>();
  const state = { dropping: false };
  const server: NetServer = createServer((client) => {
    if (state.dropping) return void client.destroy();
    const upstream = connect(Number(port), host);
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address() as { port: number };
  return {
    address: `127.0.0.1:${addr.port}`,
    get dropping() {
      return state.dropping;
    },
    set dropping(v: boolean) {
      state.dropping = v;
    },
    cutAll() {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
