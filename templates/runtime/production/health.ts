import type { sendUnaryData, Server, ServerUnaryCall, ServerWritableStream, UntypedServiceImplementation } from "@grpc/grpc-js";
import { registeredServices } from "../server-registry.js";
import { createLibraryHealth, type CapturedHealth, type LibraryServingStatus } from "./health-library.js";
import { HealthWatch, type HealthMessage } from "./health-watch.js";

/** A serving status that can be set: the two values Kubernetes' gRPC probe distinguishes. */
export type HealthStatus = "SERVING" | "NOT_SERVING";

/** Options of {@link addHealthService}. */
export interface HealthOptions {
  /**
   * The service names reported, besides the empty name `""` (the whole server), which is always
   * reported. Default: every service registered on the server through the generated
   * `add<Service>()` functions, looked up at each call (so services registered after
   * `addHealthService()` are reported too), e.g. `["demo.v1.EchoService"]`.
   */
  readonly services?: readonly string[];
}

/** Controls the statuses the health service reports. */
export interface HealthReporter {
  /**
   * Set the status of `service` (`""` = the whole server); Watch streams of it receive the new
   * status when it changed. Ignored after `drain()` (as grpc-go's `Shutdown()`: the server is
   * going away). Errors: throws a TypeError for a status other than SERVING / NOT_SERVING.
   */
  setStatus(service: string, status: HealthStatus): void;
  /**
   * Graceful shutdown: every reported service (and `""`) becomes NOT_SERVING, Watch streams
   * receive NOT_SERVING, then every Watch stream ends with status OK. Later Watch calls receive
   * the current status and end at once. Idempotent.
   */
  drain(): void;
  /**
   * Serve the same statuses on another server too, e.g. a plaintext port for Kubernetes' gRPC
   * probe when the main port is TLS. Call before that server starts answering.
   */
  addTo(server: Server): void;
}

/**
 * Add `grpc.health.v1.Health` (Check, Watch and List, from `grpc-health-check`, an optional peer
 * loaded here) to `server`. Reports `""` and the services of `options.services` (default: the
 * generated services registered on `server`) as SERVING. Check answers NOT_FOUND for an unknown
 * service; List answers RESOURCE_EXHAUSTED beyond 100 services (the library's limit).
 *
 * Source: gRPC health checking protocol (grpc/grpc `doc/health-checking.md`), grpc-health-check
 * 2.1.0. Errors: throws an Error naming `grpc-health-check` when it is not installed.
 */
export function addHealthService(server: Server, options: HealthOptions = {}): HealthReporter {
  const reporter = new HealthServer(server, options.services);
  reporter.addTo(server);
  return reporter;
}

const servingStatuses: readonly string[] = ["SERVING", "NOT_SERVING"];

class HealthServer implements HealthReporter {
  private readonly health: CapturedHealth;
  private readonly reported = new Set<string>();
  private readonly watches = new Set<HealthWatch>();
  private readonly handlers: UntypedServiceImplementation;
  private drained = false;

  constructor(
    private readonly server: Server,
    private readonly services: readonly string[] | undefined,
  ) {
    this.health = createLibraryHealth({});
    this.report("");
    for (const name of services ?? []) this.report(name);
    this.handlers = this.wrapHandlers();
  }

  setStatus(service: string, status: HealthStatus): void {
    if (!servingStatuses.includes(status)) throw new TypeError(`health status must be SERVING or NOT_SERVING, got ${String(status)}`);
    if (this.drained) return;
    this.reported.add(service);
    this.health.library.setStatus(service, status);
  }

  drain(): void {
    if (this.drained) return;
    this.syncRegistered();
    this.drained = true;
    for (const name of this.reported) this.health.library.setStatus(name, "NOT_SERVING");
    for (const watch of [...this.watches]) watch.end();
    this.watches.clear();
  }

  addTo(server: Server): void {
    server.addService(this.health.definition, this.handlers);
  }

  /** Start reporting `name`: SERVING, or NOT_SERVING once drained. */
  private report(name: string): void {
    if (this.reported.has(name)) return;
    this.reported.add(name);
    const status: LibraryServingStatus = this.drained ? "NOT_SERVING" : "SERVING";
    this.health.library.setStatus(name, status);
  }

  /** Without an explicit list, report the generated services registered since the last call. */
  private syncRegistered(): void {
    if (this.services !== undefined) return;
    for (const service of registeredServices(this.server)) this.report(service.typeName);
  }

  private wrapHandlers(): UntypedServiceImplementation {
    const { check, watch, list } = this.health.handlers as Record<string, (...args: unknown[]) => void>;
    const handlers: UntypedServiceImplementation = {
      check: (call: ServerUnaryCall<unknown, HealthMessage>, callback: sendUnaryData<HealthMessage>) => {
        this.syncRegistered();
        check(call, callback);
      },
      watch: (call: ServerWritableStream<unknown, HealthMessage>) => {
        this.syncRegistered();
        const w = new HealthWatch(call, (gone) => this.watches.delete(gone));
        watch(w.standIn);
        if (this.drained) w.end();
        else if (!w.closed) this.watches.add(w);
      },
    };
    if (list !== undefined) {
      handlers.list = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        this.syncRegistered();
        list(call, callback);
      };
    }
    return handlers;
  }
}
