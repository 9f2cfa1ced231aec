import type { ServiceDefinition, UntypedServiceImplementation } from "@grpc/grpc-js";
import { loadPeer } from "./load-peer.js";

/** A serving status as grpc-health-check stores it (the `ServingStatus` enum name). */
export type LibraryServingStatus = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";

/** The parts of grpc-health-check 2.1.0's `HealthImplementation` used here. */
export interface LibraryHealth {
  setStatus(service: string, status: LibraryServingStatus): void;
  addToServer(server: { addService(definition: ServiceDefinition, handlers: UntypedServiceImplementation): void }): void;
}

/** The grpc.health.v1.Health service of grpc-health-check: its definition and its handlers. */
export interface CapturedHealth {
  readonly library: LibraryHealth;
  readonly definition: ServiceDefinition;
  readonly handlers: UntypedServiceImplementation;
}

interface HealthModule {
  HealthImplementation: new (statusMap?: Record<string, LibraryServingStatus>) => LibraryHealth;
}

/**
 * Load grpc-health-check (optional peer; on first use) and create its `HealthImplementation`,
 * capturing the definition and handlers its `addToServer()` registers (on a stand-in server),
 * so that they can be wrapped and registered on several servers.
 *
 * Errors: throws an Error naming `grpc-health-check` when it is not installed.
 */
export function createLibraryHealth(statusMap: Record<string, LibraryServingStatus>): CapturedHealth {
  const module = loadPeer("grpc-health-check", "addHealthService()") as HealthModule;
  const library = new module.HealthImplementation(statusMap);
  let captured: { definition: ServiceDefinition; handlers: UntypedServiceImplementation } | undefined;
  library.addToServer({
    addService(definition, handlers) {
      captured = { definition, handlers };
    },
  });
  if (captured === undefined) throw new Error("grpc-health-check registered no service: unsupported version");
  return { library, ...captured };
}
