import { beforeAll, describe, expect, it } from "vitest";
import { GrpcError, Status, pushbackError, type AttemptInfo, type HandlerContext } from "@grpckit/runtime";
import { insecure } from "./support/grpc.js";
import { waitFor } from "./support/echo.js";
import { loadFaults, startFaultServer, type FaultsModule, withPolicy } from "./support/fault-server.js";

/**
 * Hedging (gRFC A6) of the NO_SIDE_EFFECTS unary method Get against real
 * grpc-js servers on 127.0.0.1. Each execution records when it started, when
 * its handler saw the cancellation, and when it answered.
 */

interface Execution {
  readonly n: number;
  readonly start: number;
  cancelledAt?: number;
  answeredAt?: number;
}

type Behaviour = (n: number, ctx: HandlerContext, e: Execution) => Promise<{ id: string } | never>;

/** Wait `ms`, or until the call is cancelled (then record it and throw). */
function hold(ms: number, ctx: HandlerContext, e: Execution): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      ctx.signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      e.cancelledAt = Date.now();
      reject(ctx.signal.reason);
    };
    ctx.signal.addEventListener("abort", onAbort, { once: true });
  });
}

describe("hedging (gRFC A6)", () => {
  let gen: FaultsModule;
  beforeAll(async () => {
    gen = await loadFaults();
  });

  async function startHedgeServer(behave: Behaviour) {
    const executions: Execution[] = [];
    const server = await startFaultServer(gen, () => undefined, {
      impl: {
        async get(req: { id: string }, ctx: HandlerContext) {
          const e: Execution = { n: executions.length + 1, start: Date.now() };
          executions.push(e);
          const res = await behave(e.n, ctx, e);
          e.answeredAt = Date.now();
          return res ?? { id: `${req.id}#${e.n}` };
        },
      },
    });
    return { ...server, executions };
  }

  function hedgingClient(address: string, hedging: object, attempts?: AttemptInfo[]) {
    return new gen.FaultServiceClient(address, insecure(), withPolicy({
      hedging,
      retryThrottling: false,
      hooks: attempts ? [() => ({ attempt: (a: AttemptInfo) => attempts.push(a) })] : [],
    }));
  }

  it("a slow first attempt is overtaken by a hedged one: the first success wins and the loser is cancelled", async () => {
    const server = await startHedgeServer(async (n, ctx, e) => {
      if (n === 1) await hold(2000, ctx, e);
      return { id: `exec${n}` };
    });
    const client = hedgingClient(server.address, { maxAttempts: 3, hedgingDelayMs: 100 });
    const t0 = Date.now();
    const res = await client.get({ id: "h" });
    expect(res.id).toBe("exec2");
    expect(Date.now() - t0).toBeLessThan(1500);
    await waitFor(() => server.executions[0]?.cancelledAt !== undefined, 1000, "the slow attempt to be cancelled");
    expect(server.executions[0]?.answeredAt).toBeUndefined();
    expect(server.executions.length).toBeGreaterThanOrEqual(2);
    client.close();
    await server.stop();
  });

  it("when one attempt commits (response headers), the others are cancelled at once and no new one starts", async () => {
    const server = await startHedgeServer(async (n, ctx, e) => {
      if (n === 1) await hold(3000, ctx, e);
      if (n === 2) {
        ctx.sendHeader();
        await hold(400, ctx, e);
      }
      return { id: `exec${n}` };
    });
    const attempts: AttemptInfo[] = [];
    const client = hedgingClient(server.address, { maxAttempts: 3, hedgingDelayMs: 150 }, attempts);
    const res = await client.get({ id: "c" });
    expect(res.id).toBe("exec2");
    const [first, second] = server.executions;
    // the first attempt was cancelled when the second one's headers arrived, long before it answered
    expect(first?.cancelledAt).toBeDefined();
    expect(first!.cancelledAt!).toBeLessThan(second!.answeredAt! - 200);
    // committed: no third attempt, although 400 ms passed with a 150 ms hedging delay
    expect(server.executions).toHaveLength(2);
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2]);
    client.close();
    await server.stop();
  });

  it("a committed attempt that fails ends the call, even with a non-fatal code", async () => {
    const server = await startHedgeServer(async (n, ctx, e) => {
      if (n === 1) await hold(3000, ctx, e);
      ctx.sendHeader();
      await hold(300, ctx, e);
      throw new GrpcError(Status.UNAVAILABLE, "after headers");
    });
    const client = hedgingClient(server.address, { maxAttempts: 3, hedgingDelayMs: 100 });
    await expect(client.get({ id: "f" })).rejects.toMatchObject({ code: Status.UNAVAILABLE, rawMessage: "after headers" });
    expect(server.executions).toHaveLength(2);
    expect(server.executions[0]?.cancelledAt).toBeDefined();
    client.close();
    await server.stop();
  });

  it("server pushback replaces the hedging delay; a negative pushback stops new hedged attempts", async () => {
    const server = await startHedgeServer(async (n) => {
      if (n === 1) throw pushbackError(Status.UNAVAILABLE, "busy", { retryAfterMs: 250 });
      return { id: `exec${n}` };
    });
    const attempts: AttemptInfo[] = [];
    // a non-fatal failure would start the next attempt at once; the pushback makes it wait 250 ms instead
    const client = hedgingClient(server.address, { maxAttempts: 3, hedgingDelayMs: 5000 }, attempts);
    const t0 = Date.now();
    expect((await client.get({ id: "p" })).id).toBe("exec2");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(245);
    expect(attempts[1]?.backoffMs).toBeGreaterThanOrEqual(245);
    expect(attempts[1]?.previous?.code).toBe(Status.UNAVAILABLE);

    const stop = await startHedgeServer(async () => {
      throw pushbackError(Status.UNAVAILABLE, "go away", { retryAfterMs: -1 });
    });
    const client2 = hedgingClient(stop.address, { maxAttempts: 3, hedgingDelayMs: 300 });
    await expect(client2.get({ id: "q" })).rejects.toMatchObject({ code: Status.UNAVAILABLE, rawMessage: "go away" });
    expect(stop.executions).toHaveLength(1);
    for (const c of [client, client2]) c.close();
    await Promise.all([server.stop(), stop.stop()]);
  });

  it("a fatal code from any attempt ends the call and cancels the others", async () => {
    const server = await startHedgeServer(async (n, ctx, e) => {
      if (n === 1) await hold(3000, ctx, e);
      throw new GrpcError(Status.INVALID_ARGUMENT, "bad");
    });
    const client = hedgingClient(server.address, { maxAttempts: 3, hedgingDelayMs: 100 });
    await expect(client.get({ id: "x" })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
    await waitFor(() => server.executions[0]?.cancelledAt !== undefined, 1000, "the first attempt to be cancelled");
    expect(server.executions).toHaveLength(2);
    client.close();
    await server.stop();
  });
});
