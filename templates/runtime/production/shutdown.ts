import type { Server } from "@grpc/grpc-js";
import { serverStateOf } from "../server-registry.js";

/** Options of {@link shutdownGracefully}. */
export interface ShutdownOptions {
  /**
   * Milliseconds in-flight calls get, once the server stopped accepting, to
   * finish; then every remaining call is cancelled (`forceShutdown`: the
   * clients see CANCELLED or UNAVAILABLE). Counted from the end of
   * `drainDelayMs`. Default 10_000. Keep `drainDelayMs + graceMs` below
   * Kubernetes' `terminationGracePeriodSeconds` (docs/operations.md).
   */
  readonly graceMs?: number;
  /**
   * Milliseconds to wait, after health reports NOT_SERVING and before the
   * server stops accepting, while load balancers and Kubernetes remove the
   * endpoint (they do so in parallel with SIGTERM). Calls that arrive in
   * this window are served normally. Default 0.
   */
  readonly drainDelayMs?: number;
  /** Health to turn NOT_SERVING first (`drain()` of the kit's HealthReporter). Default: none. */
  readonly health?: { drain(): void } | undefined;
  /**
   * Called once when the drain starts (after `drainDelayMs`, as
   * `context.draining` aborts). A throw is reported as a process warning
   * and does not stop the shutdown.
   */
  readonly onDraining?: (() => void) | undefined;
}

/** How a shutdown ended. */
export interface ShutdownResult {
  /** True when calls were still open at the grace deadline and were cancelled. */
  readonly forced: boolean;
  /** Milliseconds from the call of `shutdownGracefully` to the server being down. */
  readonly durationMs: number;
}

/** The shutdown of each server, so later calls get the same promise. */
const shutdowns = new WeakMap<Server, Promise<ShutdownResult>>();

/**
 * After `forceShutdown`, the longest wait, in milliseconds, for grpc-js to
 * report its sessions closed (they close at once; this only bounds a bug).
 */
const forcedCloseWaitMs = 2000;

/**
 * Shut `server` down gracefully, in the order Kubernetes and gRPC load
 * balancing expect:
 * 1. `health.drain()`: every service NOT_SERVING, Watch streams end;
 * 2. wait `drainDelayMs` (calls still served);
 * 3. `context.draining` aborts on every handler context (long-lived streams
 *    should wrap up) and `onDraining()` runs;
 * 4. `tryShutdown()`: listeners close, every connection gets GOAWAY, so
 *    new calls fail with UNAVAILABLE (clients retry elsewhere), while
 *    in-flight calls run to completion;
 * 5. at `graceMs` after step 4, `forceShutdown()` cancels what is left.
 *
 * Resolves when the server is down. Idempotent: later calls (any options)
 * return the first call's promise. Never rejects.
 *
 * @throws RangeError (synchronously) when `graceMs` or `drainDelayMs` is not a non-negative number
 */
export function shutdownGracefully(server: Server, options: ShutdownOptions = {}): Promise<ShutdownResult> {
  const existing = shutdowns.get(server);
  if (existing !== undefined) return existing;
  const graceMs = checkMs("graceMs", options.graceMs ?? 10_000);
  const drainDelayMs = checkMs("drainDelayMs", options.drainDelayMs ?? 0);
  const started = performance.now();
  const done = (async (): Promise<ShutdownResult> => {
    options.health?.drain();
    if (drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, drainDelayMs));
    serverStateOf(server).startDraining();
    runHook(options.onDraining);
    const forced = await closeWithin(server, graceMs);
    return { forced, durationMs: Math.round(performance.now() - started) };
  })();
  shutdowns.set(server, done);
  return done;
}

/** `tryShutdown`, then `forceShutdown` after `graceMs`; resolves true when it had to force. */
function closeWithin(server: Server, graceMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    let forced = false;
    let fallback: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => {
      forced = true;
      server.forceShutdown();
      fallback = setTimeout(() => resolve(true), forcedCloseWaitMs);
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(deadline);
      if (fallback !== undefined) clearTimeout(fallback);
      resolve(forced);
    });
  });
}

function runHook(hook: (() => void) | undefined): void {
  try {
    hook?.();
  } catch (err) {
    process.emitWarning(`shutdownGracefully: onDraining threw: ${String(err)}`);
  }
}

function checkMs(name: string, value: number): number {
  if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) {
    throw new RangeError(`shutdownGracefully: ${name} must be a non-negative number of milliseconds, got ${String(value)}`);
  }
  return value;
}

/** Options of {@link shutdownOnSignals}. */
export interface SignalShutdownOptions extends ShutdownOptions {
  /** The signals to handle. Default `["SIGTERM", "SIGINT"]`. */
  readonly signals?: readonly NodeJS.Signals[];
  /**
   * Called with the result once the server is down. Default: exit the
   * process with code 0 (`process.exit(0)`), as the signal's default action
   * would have (with nothing lost).
   */
  readonly onShutdown?: ((result: ShutdownResult) => void) | undefined;
}

/** Anything that shuts down gracefully on its own: a kit from `serveProduction`. */
export interface GracefulTarget {
  shutdown(): Promise<ShutdownResult>;
}

/**
 * Opt-in: on the first of `signals` (default SIGTERM and SIGINT), shut
 * `target` down gracefully (`shutdownGracefully(server, options)`, or
 * `kit.shutdown()` for a kit, whose own options then apply), then call
 * `onShutdown` (default: exit 0). Further signals while draining are
 * ignored: the grace deadline bounds the wait. Installing a handler
 * replaces Node's default action (exit) for these signals until the
 * server is down; the handlers are then removed, before `onShutdown`. If
 * the shutdown itself fails, the error is logged and the process exits 1.
 *
 * Returns a function that removes the handlers (idempotent).
 */
export function shutdownOnSignals(target: Server | GracefulTarget, options: SignalShutdownOptions = {}): () => void {
  const signals = options.signals ?? (["SIGTERM", "SIGINT"] as const);
  const onShutdown = options.onShutdown ?? (() => process.exit(0));
  let started = false;
  const remove = () => {
    for (const signal of signals) process.off(signal, handler);
  };
  const handler = () => {
    if (started) return;
    started = true;
    const down = isGracefulTarget(target) ? target.shutdown() : shutdownGracefully(target, options);
    void down.then(
      (result) => {
        remove(); // the server is down: signals get their default action again (a hung onShutdown can still be stopped)
        onShutdown(result);
      },
      (error: unknown) => {
        remove();
        console.error("protoc-gen-grpckit: graceful shutdown on a signal failed:", error);
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, handler);
  return remove;
}

function isGracefulTarget(target: Server | GracefulTarget): target is GracefulTarget {
  return typeof (target as Partial<GracefulTarget>).shutdown === "function" && typeof (target as Partial<Server>).tryShutdown !== "function";
}
