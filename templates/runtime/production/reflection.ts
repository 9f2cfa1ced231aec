import type { DescService } from "@bufbuild/protobuf";
import type { Server, ServerDuplexStream, ServiceDefinition } from "@grpc/grpc-js";
import { registeredServices } from "../server-registry.js";
import { collectReflectedFiles, type ReflectionPackage } from "./reflection-descriptors.js";
import {
  captureReflectionDefinitions,
  createLibraryReflection,
  type LibraryReflection,
  type ReflectionVersion,
} from "./reflection-library.js";

/** Options of {@link addReflectionService}. */
export interface ReflectionOptions {
  /**
   * Allow-list of the services described (full names, e.g. `["demo.v1.EchoService"]`); names
   * not registered on the server are ignored. Default: every service registered through the
   * generated `add<Service>()` functions, looked up when a reflection stream starts (so services
   * registered after `addReflectionService()` count too).
   */
  readonly services?: readonly string[];
}

/**
 * Add server reflection (`grpc.reflection.v1` and `grpc.reflection.v1alpha`, from
 * `@grpc/reflection`, an optional peer loaded here) to `server`, describing the generated
 * services registered on it from the descriptors their `_pb` files embed: no protoset file.
 *
 * - list_services: the allowed services, and `grpc.reflection.v1.ServerReflection` and
 *   `grpc.reflection.v1alpha.ServerReflection` themselves (as grpc-go and grpc-java list them).
 * - file_containing_symbol / file_by_filename / file_containing_extension: the file and its full
 *   transitive import closure (editions, custom options such as `buf.validate` rules, and the
 *   files declaring them, included; no source info, so no comments). The reflection services'
 *   own file is proto-loader's (`grpc_reflection_v1.proto`, `grpc_reflection_v1alpha.proto`).
 * - unknown symbols or files: an error_response with NOT_FOUND (5), in the stream.
 *
 * Reflection lets any client read the whole API: enable it in development, consider leaving
 * it off (or allow-listed) in production. Source: gRPC server reflection protocol (grpc/grpc
 * `doc/server-reflection.md`), gRFC L108. Errors: throws an Error naming `@grpc/reflection`
 * when it is not installed.
 */
export function addReflectionService(server: Server, options: ReflectionOptions = {}): void {
  const definitions = captureReflectionDefinitions();
  const reflection = new LazyReflection(server, options.services, definitions);
  for (const [version, definition] of definitions) {
    server.addService(definition, { serverReflectionInfo: (call: ServerDuplexStream<unknown, unknown>) => reflection.serve(version, call) });
  }
}

/** `@grpc/reflection` for the services registered so far; rebuilt when more are registered. */
class LazyReflection {
  private built: { count: number; versions: ReadonlyMap<ReflectionVersion, LibraryReflection> } | undefined;
  private readonly own: ReflectionPackage;

  constructor(
    private readonly server: Server,
    private readonly allowed: readonly string[] | undefined,
    definitions: ReadonlyMap<ReflectionVersion, ServiceDefinition>,
  ) {
    this.own = {};
    for (const [version, definition] of definitions) {
      const method = Object.values(definition)[0] as { requestType?: { fileDescriptorProtos?: Uint8Array[] } } | undefined;
      this.own[`${version}.ServerReflection`] = { fileDescriptorProtos: method?.requestType?.fileDescriptorProtos ?? [] };
    }
  }

  /** One ServerReflectionInfo stream: a response per request, ends when the client half-closes. */
  serve(version: ReflectionVersion, call: ServerDuplexStream<unknown, unknown>): void {
    const implementation = this.current().get(version);
    call.on("end", () => call.end());
    call.on("data", (request: unknown) => call.write(implementation?.handleServerReflectionRequest(request)));
  }

  private current(): ReadonlyMap<ReflectionVersion, LibraryReflection> {
    const registered = registeredServices(this.server);
    if (this.built?.count !== registered.length) {
      this.built = { count: registered.length, versions: this.build(registered) };
    }
    return this.built.versions;
  }

  private build(registered: readonly DescService[]): ReadonlyMap<ReflectionVersion, LibraryReflection> {
    const allowed = this.allowed;
    const services = allowed === undefined ? registered : registered.filter((s) => allowed.includes(s.typeName));
    const { files, packageDefinition } = collectReflectedFiles(services);
    const names = [...services.map((s) => s.typeName), ...Object.keys(this.own)];
    return createLibraryReflection({ ...packageDefinition, ...this.own }, names, files);
  }
}
