import { Server, ServerCredentials } from "@grpc/grpc-js";
import { addHealthService, type HealthOptions, type HealthReporter } from "./health.js";
import { addReflectionService } from "./reflection.js";
import { shutdownGracefully, shutdownOnSignals, type ShutdownResult } from "./shutdown.js";

/** Options of {@link serveProduction}. */
export interface ServeProductionOptions {
  /**
   * Serve `grpc.health.v1.Health` (needs `grpc-health-check`): `true` reports
   * `""` and every service registered through the generated `add*`
   * functions as SERVING; an object passes {@link HealthOptions}. Default true.
   */
  readonly health?: boolean | HealthOptions;
  /**
   * Serve gRPC reflection v1 and v1alpha (needs `@grpc/reflection`). Off by
   * default: reflection lists your whole API; enable it in development, or
   * behind authentication. Default false.
   */
  readonly reflection?: boolean;
  /** With `reflection`: the services reflection reveals (allow-list). Default: all registered. */
  readonly reflectionServices?: readonly string[];
  /** `graceMs` of {@link shutdownGracefully}: in-flight calls' time to finish, in milliseconds. Default 10_000. */
  readonly shutdownGraceMs?: number;
  /** `drainDelayMs` of {@link shutdownGracefully}, in milliseconds. Default 0. */
  readonly drainDelayMs?: number;
  /**
   * A separate plaintext port that serves Health alone, for Kubernetes' gRPC
   * probe (plaintext only) when the main port is TLS. A number binds that
   * port on the host of the `listen` address (0 = any free port); a string
   * is a full address (`"0.0.0.0:8081"`). Needs `health`. Default: none.
   */
  readonly healthPort?: number | string;
  /** Shut down gracefully on SIGTERM/SIGINT, then exit 0 ({@link shutdownOnSignals}). Default false. */
  readonly handleSignals?: boolean;
}

/** A server with the production kit: see {@link serveProduction}. */
export interface ProductionKit {
  /** The grpc-js server the kit runs. */
  readonly server: Server;
  /** The health reporter, when `health` is on. */
  readonly health: HealthReporter | undefined;
  /** The bound port of the plaintext health probe server, after `listen` (with `healthPort`). */
  readonly healthProbePort: number | undefined;
  /**
   * Bind `address` (`"0.0.0.0:50051"`, `"127.0.0.1:0"`) with `credentials`
   * (explicit: `ServerCredentials.createInsecure()` or TLS, e.g. from
   * `serverCredentialsFromFiles`), and the health probe port if configured.
   * Resolves with the bound main port. Call once.
   * Rejects with an Error when called twice or after `shutdown()`, and with grpc-js's bind error.
   */
  listen(address: string, credentials: ServerCredentials): Promise<number>;
  /**
   * Graceful shutdown ({@link shutdownGracefully} with the kit's health and
   * timings), then the probe server; resolves with the main server's result.
   * Called while `listen()` is still binding (a signal at start-up), it
   * waits for the binds first, so that neither server is left serving.
   * Idempotent.
   */
  shutdown(): Promise<ShutdownResult>;
}

/**
 * Give `server` the production kit: Health (on by default), reflection (off
 * by default), graceful shutdown, an optional plaintext health probe port
 * and opt-in signal handling. Health and reflection report the services
 * registered on `server` through the generated `add*` functions (also
 * those registered after this call).
 *
 * ```ts
 * const server = new Server(productionServerOptions());
 * addGreetService(server, handlers);
 * const kit = serveProduction(server, { healthPort: 8081, handleSignals: true });
 * await kit.listen("0.0.0.0:50051", serverCredentialsFromFiles({ cert, key }));
 * ```
 *
 * @throws TypeError when `healthPort` is set without `health`
 */
export function serveProduction(server: Server, options: ServeProductionOptions = {}): ProductionKit {
  const healthOption = options.health ?? true;
  if (options.healthPort !== undefined && healthOption === false) {
    throw new TypeError("serveProduction: healthPort needs health");
  }
  const health = healthOption === false ? undefined : addHealthService(server, healthOption === true ? {} : healthOption);
  if (options.reflection === true) {
    addReflectionService(server, options.reflectionServices === undefined ? {} : { services: options.reflectionServices });
  }
  let probe: Server | undefined;
  let probePort: number | undefined;
  let listening: Promise<number> | undefined;
  let down: Promise<ShutdownResult> | undefined;
  let removeSignals: (() => void) | undefined;

  const kit: ProductionKit = {
    server,
    health,
    get healthProbePort() {
      return probePort;
    },
    listen(address, credentials) {
      if (listening !== undefined || down !== undefined) return Promise.reject(new Error("serveProduction: listen() may be called once, before shutdown()"));
      listening = (async () => {
        const port = await bind(server, address, credentials);
        if (options.healthPort !== undefined && health !== undefined) {
          probe = new Server();
          health.addTo(probe);
          probePort = await bind(probe, probeAddress(address, options.healthPort), ServerCredentials.createInsecure());
        }
        return port;
      })();
      return listening;
    },
    shutdown() {
      down ??= (async () => {
        await listening?.catch(() => undefined); // a shutdown during listen() (a signal at start-up) waits for the binds, then stops both servers
        const result = await shutdownGracefully(server, {
          graceMs: options.shutdownGraceMs,
          drainDelayMs: options.drainDelayMs,
          health,
        });
        if (probe !== undefined) await shutdownGracefully(probe, { graceMs: 1000 });
        removeSignals?.(); // only now: a second signal while draining must not kill the process
        return result;
      })();
      return down;
    },
  };
  if (options.handleSignals === true) removeSignals = shutdownOnSignals(kit);
  return kit;
}

function bind(server: Server, address: string, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port))));
}

/** The probe's address: `healthPort` as given, or the port number on the host of `address`. */
function probeAddress(address: string, healthPort: number | string): string {
  if (typeof healthPort === "string") return healthPort;
  const colon = address.lastIndexOf(":");
  const host = colon < 0 ? address : address.slice(0, colon);
  return `${host}:${healthPort}`;
}
