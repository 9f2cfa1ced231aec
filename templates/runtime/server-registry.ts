import type { DescService } from "@bufbuild/protobuf";
import type { Server } from "@grpc/grpc-js";

/**
 * Per-server state shared by the generated `add<Service>()` functions and the
 * production server kit: the services registered on a grpc-js Server (health
 * and reflection report them) and its drain state (handlers see it as
 * `context.draining`).
 *
 * Kept on `globalThis` under a `Symbol.for` key, so that the ESM and the
 * CommonJS builds of this package, loaded in one process, share it.
 *
 * @internal For the packages of protoc-gen-grpckit; not public API.
 */
export interface ServerState {
  /** The services registered through `addServiceImplementation`, in registration order. */
  readonly services: DescService[];
  /** Aborts when the server starts draining (graceful shutdown); created on first use. */
  readonly draining: AbortSignal;
  /** Start draining: aborts `draining`. Idempotent. */
  startDraining(): void;
}

const registryKey = Symbol.for("@grpckit/runtime.server-registry.v1");
type Registry = WeakMap<Server, ServerState>;
const globalScope = globalThis as { [registryKey]?: Registry };
const registry: Registry = (globalScope[registryKey] ??= new WeakMap<Server, ServerState>());

/** The state of `server`, created on first use. @internal */
export function serverStateOf(server: Server): ServerState {
  let state = registry.get(server);
  if (state === undefined) {
    state = createServerState();
    registry.set(server, state);
  }
  return state;
}

/** Record that `service` was registered on `server`. @internal */
export function recordService(server: Server, service: DescService): void {
  const services = serverStateOf(server).services;
  if (!services.includes(service)) services.push(service);
}

/** The services registered on `server` through generated `add<Service>()` functions. @internal */
export function registeredServices(server: Server): readonly DescService[] {
  return registry.get(server)?.services ?? [];
}

function createServerState(): ServerState {
  let controller: AbortController | undefined;
  return {
    services: [],
    get draining() {
      controller ??= new AbortController();
      return controller.signal;
    },
    startDraining() {
      controller ??= new AbortController();
      if (!controller.signal.aborted) controller.abort();
    },
  };
}
