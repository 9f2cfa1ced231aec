import { toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

/** One file served by reflection: its serialized FileDescriptorProto and its direct imports (file names). */
export interface ReflectedFile {
  readonly bytes: Uint8Array;
  readonly imports: readonly string[];
}

/**
 * The object `@grpc/reflection` reads as its proto-loader `PackageDefinition`: it reads only the
 * serialized FileDescriptorProtos of each entry (`fileDescriptorProtos`).
 */
export type ReflectionPackage = Record<string, { readonly fileDescriptorProtos: readonly Uint8Array[] }>;

/** The files of some services, with their full transitive import closure. */
export interface ReflectedFiles {
  /** By file name (e.g. `demo/v1/echo.proto`), in dependency order (imports first). */
  readonly files: ReadonlyMap<string, ReflectedFile>;
  /** One entry per service (key: its full name) carrying every file of `files`. */
  readonly packageDefinition: ReflectionPackage;
}

/**
 * Collect the embedded descriptors of the files declaring `services` and every file they import,
 * transitively (editions features, custom options such as `buf.validate` rules and the files
 * declaring them included; embedded descriptors carry no source info, so no comments), each
 * serialized with `toBinary(FileDescriptorProtoSchema, file.proto)`.
 */
export function collectReflectedFiles(services: readonly DescService[]): ReflectedFiles {
  const files = new Map<string, ReflectedFile>();
  const visit = (file: DescFile) => {
    if (files.has(file.proto.name)) return;
    file.dependencies.forEach(visit);
    files.set(file.proto.name, { bytes: toBinary(FileDescriptorProtoSchema, file.proto), imports: file.proto.dependency });
  };
  for (const service of services) visit(service.file);
  const all = [...files.values()].map((f) => f.bytes);
  const packageDefinition: ReflectionPackage = {};
  for (const service of services) packageDefinition[service.typeName] = { fileDescriptorProtos: all };
  return { files, packageDefinition };
}
