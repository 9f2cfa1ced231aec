import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { GrpcError, Status, type CallResult, type ClientHook } from "@grpckit/runtime";
import { insecure } from "./support/grpc.js";
import { loadFaults, seededFailures, startFaultServer, startTcpProxy, unavailable, type FaultsModule } from "./support/fault-server.js";
import { root } from "./support/paths.js";

/**
 * Fault scenarios with the DEFAULT client options (no serviceConfig), as a
 * new user runs them (issue 8): retries follow the proto's
 * idempotency_level, no throttling unless configured; a server process
 * killed and restarted; round_robin over three servers with one killed.
 * Server executions are counted per logical call.
 */

/** A restart-server.mjs child process: its port and the executions it printed. */
interface Child {
  readonly proc: ChildProcess;
  readonly port: Promise<number>;
  readonly execs: string[];
}

function spawnServer(port: number, execs: string[] = []): Child {
  const proc = spawn(process.execPath, [join(root, "test/support/restart-server.mjs"), String(port)], { stdio: ["ignore", "pipe", "inherit"] });
  let buffered = "";
  const bound = new Promise<number>((resolve, reject) => {
    proc.once("exit", (code) => reject(new Error(`restart server exited with ${code}`)));
    proc.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith("port ")) resolve(Number(line.slice(5)));
        else if (line.startsWith("exec ")) execs.push(line.slice(5));
      }
    });
  });
  bound.catch(() => {});
  return { proc, port: bound, execs };
}

function kill(child: Child): Promise<void> {
  if (child.proc.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.proc.once("exit", () => resolve());
    child.proc.kill("SIGKILL");
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("fault scenarios with default options", () => {
  let gen: FaultsModule;
  beforeAll(async () => {
    gen = await loadFaults();
  });

  it("30% UNAVAILABLE: >= 99.5% of idempotent calls succeed in <= 5 attempts; a method without idempotency_level runs exactly once", async () => {
    const fail = seededFailures(7, 0.3);
    const server = await startFaultServer(gen, (_m, id, n) => (fail(id, n) ? unavailable() : undefined));
    const client = new gen.FaultServiceClient(server.address, insecure()); // defaults only
    const calls = 2000;
    let failed = 0;
    for (let batch = 0; batch < calls; batch += 100) {
      const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => client.get({ id: `${batch + i}` })));
      failed += results.filter((r) => r.status === "rejected").length;
    }
    expect(1 - failed / calls).toBeGreaterThanOrEqual(0.995);
    expect(Math.max(...server.counter.byId.values())).toBeLessThanOrEqual(5);
    const pays = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => client.pay({ id: `p${i}` })));
    for (let i = 0; i < 200; i++) expect(server.counter.byId.get(`pay:p${i}`)).toBe(1);
    const payFailures = pays.filter((r) => r.status === "rejected").length;
    expect(payFailures / 200).toBeGreaterThan(0.15); // not retried: about 30% fail
    client.close();
    await server.stop();
  }, 60_000);

  it("a server process killed and restarted 1 s later on the same port: sequential idempotent calls (timeoutMs 5000) all succeed; pay runs at most once", async () => {
    const execs: string[] = [];
    const first = spawnServer(0, execs);
    const port = await first.port;
    const client = new gen.FaultServiceClient(`127.0.0.1:${port}`, insecure());
    await client.get({ id: "warm" }, { timeoutMs: 5000 });
    let second: Child | undefined;
    const restart = (async () => {
      await sleep(300);
      await kill(first);
      await sleep(1000);
      second = spawnServer(port, execs);
      await second.port;
    })();
    const outcomes: (true | GrpcError)[] = [];
    const payOutcomes: unknown[] = [];
    const started = Date.now();
    for (let i = 0; i < 40 && Date.now() - started < 20_000; i++) {
      outcomes.push(await client.get({ id: `g${i}` }, { timeoutMs: 5000 }).then(() => true as const, (e: GrpcError) => e));
      if (i % 5 === 0) payOutcomes.push(await client.pay({ id: `pay${i}` }, { timeoutMs: 5000 }).catch((e: unknown) => e));
      await sleep(50);
    }
    await restart;
    expect(outcomes.filter((o) => o !== true)).toEqual([]);
    expect(Date.now() - started).toBeGreaterThan(1300); // the loop did span the restart
    for (let i = 0; i < 40; i += 5) expect(execs.filter((e) => e === `pay pay${i}`).length).toBeLessThanOrEqual(1);
    expect(payOutcomes.length).toBeGreaterThan(0);
    client.close();
    await kill(second!);
  }, 60_000);

  it("round_robin over 3 servers, one killed mid-run: 0 failed idempotent calls; retries land on another backend", async () => {
    // backend 1 sits behind a TCP proxy; it "dies" (every connection reset, no new ones, as when its process is
    // killed) while it runs a call of batch 10: the calls in flight on it (at least that one: the cut comes
    // before its response is written) fail UNAVAILABLE and are retried elsewhere
    let proxy: Awaited<ReturnType<typeof startTcpProxy>> | undefined;
    let alive = true;
    const dieDuringBatch10 = (_m: string, id: string) => {
      if (alive && id.startsWith("10-")) {
        alive = false;
        proxy!.dropping = true;
        proxy!.cutAll();
      }
      return undefined;
    };
    const servers = await Promise.all([0, 1, 2].map((i) => startFaultServer(gen, i === 1 ? dieDuringBatch10 : () => undefined, { delayMs: 5 })));
    proxy = await startTcpProxy(servers[1]!.address);
    const addresses = [servers[0]!.address, proxy.address, servers[2]!.address];
    const target = `ipv4:${addresses.join(",")}`;
    const ends: { result: CallResult; attempts: number }[] = [];
    const hook: ClientHook = () => {
      let attempts = 0;
      return { attempt: () => attempts++, end: (result) => ends.push({ result, attempts }) };
    };
    const client = new gen.FaultServiceClient(target, insecure(), { serviceConfig: { loadBalancingConfig: [{ round_robin: {} }] }, hooks: [hook] });
    const killed = servers[1]!;
    let failed = 0;
    for (let batch = 0; batch < 30; batch++) {
      const calls = Array.from({ length: 20 }, (_, i) => client.get({ id: `${batch}-${i}` }, { timeoutMs: 5000 }));
      failed += (await Promise.allSettled(calls)).filter((r) => r.status === "rejected").length;
    }
    expect(failed).toBe(0);
    const retried = ends.filter((x) => x.attempts > 1);
    expect(retried.length).toBeGreaterThan(0); // calls were in flight on the dying backend
    expect(killed.counter.total).toBeGreaterThan(0);
    const peers = new Set(ends.map((e) => e.result.peer));
    expect(peers.size).toBeGreaterThanOrEqual(2);
    for (const e of retried) expect(e.result.peer).not.toBe(proxy.address);
    const lateCalls = ends.slice(-100);
    expect(lateCalls.every((e) => e.result.code === Status.OK && e.result.peer !== proxy.address)).toBe(true);
    client.close();
    await proxy.close();
    await Promise.all(servers.map((s) => s.stop()));
  }, 60_000);
});
