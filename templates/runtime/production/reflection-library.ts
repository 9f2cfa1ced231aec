import type { ServiceDefinition } from "@grpc/grpc-js";
import { loadPeer } from "./load-peer.js";
import type { ReflectedFile, ReflectionPackage } from "./reflection-descriptors.js";

/** The reflection protocol versions served, by the package of their ServerReflection service. */
export type ReflectionVersion = "grpc.reflection.v1" | "grpc.reflection.v1alpha";

/** One version's implementation in `@grpc/reflection` 1.0.4 (`ReflectionV1Implementation`). */
export interface LibraryReflection {
  handleServerReflectionRequest(request: unknown): unknown;
}

/** The ServerReflection definitions of `@grpc/reflection`, as its `addToServer()` registers them. */
export type CapturedDefinitions = ReadonlyMap<ReflectionVersion, ServiceDefinition>;

interface ReflectionModule {
  ReflectionService: new (pkg: ReflectionPackage, options?: { services?: string[] }) => LibraryService;
}
interface LibraryService {
  readonly v1: LibraryReflection;
  readonly v1Alpha: LibraryReflection;
  addToServer(server: { addService(definition: ServiceDefinition, handlers: object): void }): void;
}

/** The internal indexes of `ReflectionV1Implementation` (1.0.4) that {@link createLibraryReflection} corrects. */
interface LibraryIndexes {
  readonly files: Record<string, object>;
  readonly fileEncodings: Map<object, Uint8Array>;
  readonly fileDependencies: Map<object, object[]>;
}

const purpose = "addReflectionService()";

function loadModule(): ReflectionModule {
  return loadPeer("@grpc/reflection", purpose) as ReflectionModule;
}

/**
 * The ServerReflection service definitions of `@grpc/reflection` (loaded on first use), v1 and
 * v1alpha, captured from its `addToServer()` on a stand-in server. Each method definition carries
 * its proto-loader `requestType.fileDescriptorProtos` (file `grpc_reflection_v1.proto` etc.).
 *
 * Errors: throws an Error naming `@grpc/reflection` when it is not installed.
 */
export function captureReflectionDefinitions(): CapturedDefinitions {
  const definitions = new Map<ReflectionVersion, ServiceDefinition>();
  new (loadModule().ReflectionService)({}).addToServer({
    addService(definition) {
      const path = Object.values(definition)[0]?.path ?? "";
      const version = path.slice(1, path.lastIndexOf(".ServerReflection/"));
      if (version === "grpc.reflection.v1" || version === "grpc.reflection.v1alpha") definitions.set(version, definition);
    },
  });
  if (definitions.size !== 2) throw new Error("@grpc/reflection did not register grpc.reflection.v1 and v1alpha: unsupported version");
  return definitions;
}

/**
 * Create `@grpc/reflection`'s implementations for `pkg`, listing `services`.
 *
 * `@grpc/reflection` 1.0.4 decodes each file with protobufjs' descriptor schema and re-encodes
 * it, which drops what that schema lacks (editions, custom options such as `buf.validate`
 * rules), and links files by the types they reference, missing imports used only for options.
 * So its per-file encodings and import graph are replaced by the original bytes and the
 * declared imports of `files`. Errors: throws when its internals have another shape.
 */
export function createLibraryReflection(
  pkg: ReflectionPackage,
  services: readonly string[],
  files: ReadonlyMap<string, ReflectedFile>,
): ReadonlyMap<ReflectionVersion, LibraryReflection> {
  const library = new (loadModule().ReflectionService)(pkg, { services: [...services] });
  correctIndexes(library.v1, files);
  correctIndexes(library.v1Alpha, files);
  return new Map<ReflectionVersion, LibraryReflection>([
    ["grpc.reflection.v1", library.v1],
    ["grpc.reflection.v1alpha", library.v1Alpha],
  ]);
}

function correctIndexes(implementation: LibraryReflection, files: ReadonlyMap<string, ReflectedFile>): void {
  const indexes = implementation as unknown as Partial<LibraryIndexes>;
  const { files: parsed, fileEncodings, fileDependencies } = indexes;
  if (typeof parsed !== "object" || !(fileEncodings instanceof Map) || !(fileDependencies instanceof Map)) {
    throw new Error("@grpc/reflection has unexpected internals (files, fileEncodings, fileDependencies): unsupported version");
  }
  for (const [name, file] of files) {
    const proto = parsed[name];
    if (proto === undefined) continue;
    fileEncodings.set(proto, file.bytes);
    const imports = file.imports.map((dep) => parsed[dep]).filter((dep): dep is object => dep !== undefined);
    fileDependencies.set(proto, imports);
  }
}
