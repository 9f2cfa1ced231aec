import { createServer, connect, type Server as NetServer, type Socket } from "node:net";
import { GrpcError, Status } from "@grpckit/runtime";
import { generateFixtures } from "./fixture.js";
import { startServer } from "./grpc.js";
import { mulberry32 } from "./prng.js";

/** The generated module of testdata/fixtures/resilience/v1/faults.proto (typed loosely: it exists once generated). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type FaultsModule = any;

let cached: Promise<FaultsModule> | undefined;
let generatedDir: string | undefined;

/** Generate (real protoc, our plugin with its default resilience options) and import the faults fixture. */
export function loadFaults(): Promise<FaultsModule> {
  cached ??= (async () => {
    const out = generateFixtures(["resilience/v1/faults.proto"], "target=ts,telemetry=false,validate=false");
    generatedDir = out;
    return import(`${out}/resilience/v1/faults_grpckit.ts`);
  })();
  return cached;
}

/** The protoc-gen-es module of the faults fixture (its `FaultService` descriptor). */
export async function loadFaultsPb(): Promise<FaultsModule> {
  await loadFaults();
  return import(`${generatedDir}/resilience/v1/faults_pb.ts`);
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
 * Independent, reproducible failures: "does execution `n` of call `id`
 * fail?" is true with probability `rate`, decided by a PRNG seeded from
 * (seed, id, n) alone, so the answer does not depend on the order in which
 * concurrent executions reach the server.
 */
export function seededFailures(seed: number, rate: number): (id: string, n: number) => boolean {
  return (id, n) => {
    let h = (seed ^ 0x9e3779b9) >>> 0;
    for (const ch of `${id}#${n}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    return mulberry32(h)() < rate;
  };
}

/** UNAVAILABLE, as a fault server throws it. */
export const unavailable = (): GrpcError => new GrpcError(Status.UNAVAILABLE, "injected");

/** Decides the fault of an execution: an error to throw for the n-th execution of call `id` of `method`, or undefined. */
export type FaultDecision = (method: string, id: string, n: number) => Error | undefined;

/**
 * A real grpc-js server on 127.0.0.1 serving the faults fixture: the unary
 * methods count each execution per call id, wait `delayMs`, then fail as
 * `decide` says; `list` sends one response before failing. `impl` adds or
 * replaces handlers (the streaming ones, for instance).
 */
export async function startFaultServer(gen: FaultsModule, decide: FaultDecision, options: { delayMs?: number; impl?: Record<string, unknown> } = {}) {
  const counter = new ExecutionCounter();
  const delayMs = options.delayMs ?? 0;
  const serve = (method: string) => async (req: { id: string }) => {
    const n = counter.count(`${method}:${req.id}`);
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    const err = decide(method, req.id, n);
    if (err) throw err;
    return { id: req.id };
  };
  const s = await startServer((server) =>
    gen.addPartialFaultService(server, {
      get: serve("get"),
      put: serve("put"),
      pay: serve("pay"),
      async *list(req: { id: string; count: number }) {
        const n = counter.count(`list:${req.id}`);
        const err = decide("list", req.id, n);
        yield { id: req.id, index: 0 };
        if (err) throw err;
        for (let i = 1; i < req.count; i++) yield { id: req.id, index: i };
      },
      ...options.impl,
    }),
  );
  return { ...s, counter };
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

/** Policy knobs of a test client, in milliseconds, turned into a standard service config by {@link withPolicy}. */
export interface TestPolicy {
  readonly retry?: { maxAttempts?: number; initialBackoffMs?: number; maxBackoffMs?: number; backoffMultiplier?: number; retryableCodes?: readonly number[] };
  readonly hedging?: { maxAttempts?: number; hedgingDelayMs?: number; nonFatalCodes?: readonly number[] };
  readonly retryThrottling?: { maxTokens: number; tokenRatio: number } | false;
}

const seconds = (ms: number) => `${ms / 1000}s`;

/**
 * Client options with `serviceConfig` built from `policy` for every method
 * of resilience.v1.FaultService (defaults as the runtime's: 5 attempts,
 * 0.1 s doubling to 1 s, UNAVAILABLE); other options pass through.
 */
export function withPolicy<T extends object>(options: T & TestPolicy): Omit<T, keyof TestPolicy> & { serviceConfig: object } {
  const { retry, hedging, retryThrottling, ...rest } = options;
  const entry: Record<string, unknown> = { name: [{ service: "resilience.v1.FaultService" }] };
  if (retry) {
    entry["retryPolicy"] = {
      maxAttempts: retry.maxAttempts ?? 5,
      initialBackoff: seconds(retry.initialBackoffMs ?? 100),
      maxBackoff: seconds(retry.maxBackoffMs ?? 1000),
      backoffMultiplier: retry.backoffMultiplier ?? 2,
      retryableStatusCodes: retry.retryableCodes ?? ["UNAVAILABLE"],
    };
  }
  if (hedging) {
    entry["hedgingPolicy"] = {
      maxAttempts: hedging.maxAttempts ?? 3,
      hedgingDelay: seconds(hedging.hedgingDelayMs ?? 0),
      nonFatalStatusCodes: hedging.nonFatalCodes ?? ["UNAVAILABLE"],
    };
  }
  const serviceConfig: Record<string, unknown> = { methodConfig: [entry] };
  if (retryThrottling) serviceConfig["retryThrottling"] = retryThrottling;
  return { ...(rest as Omit<T, keyof TestPolicy>), serviceConfig };
}
