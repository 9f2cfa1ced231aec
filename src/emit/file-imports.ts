import type { DescMessage, DescService } from "@bufbuild/protobuf";
import type { GeneratedFile, ImportSymbol } from "@bufbuild/protoplugin";
import type { GrpckitOptions } from "../options/parse-options.js";

/**
 * The imports of one generated file, each resolved once.
 *
 * protoplugin's `importShape` / `importSchema` recompute the names of every
 * type in the imported file on each call (O(types) per call, see
 * shared/notes/protoplugin-performance.md); asking once per distinct
 * element keeps a file with many methods linear.
 */
export interface FileImports {
  /** The message type (`GetUserRequest`), type-only. */
  shape(desc: DescMessage): ImportSymbol;
  /** The message schema (`GetUserRequestSchema`), type-only, for `typeof` in types. */
  schemaType(desc: DescMessage): ImportSymbol;
  /** The service descriptor protoc-gen-es emits (`UserService`). */
  service(desc: DescService): ImportSymbol;
  /** A symbol of the protoc-gen-grpckit runtime. */
  runtime(name: string, typeOnly?: boolean): ImportSymbol;
  /** A symbol of the runtime's OpenTelemetry part, `<runtime_import>/telemetry`. */
  telemetry(name: string, typeOnly?: boolean): ImportSymbol;
  /** A symbol of the runtime's validation part, `<runtime_import>/validate`. */
  validate(name: string, typeOnly?: boolean): ImportSymbol;
  /** A symbol of `@grpc/grpc-js`. */
  grpc(name: string, typeOnly?: boolean): ImportSymbol;
  /** A symbol of `@bufbuild/protobuf`. */
  protobuf(name: string, typeOnly?: boolean): ImportSymbol;
}

export function createFileImports(f: GeneratedFile, options: GrpckitOptions): FileImports {
  const memo = new Map<string, ImportSymbol>();
  const once = (key: string, make: () => ImportSymbol) => {
    let s = memo.get(key);
    if (s === undefined) {
      s = make();
      memo.set(key, s);
    }
    return s;
  };
  return {
    shape: (d) => once(`shape:${d.typeName}`, () => f.importShape(d)),
    schemaType: (d) => once(`schema-type:${d.typeName}`, () => f.importSchema(d, true)),
    service: (d) => once(`service:${d.typeName}`, () => f.importSchema(d)),
    runtime: (n, t = false) => once(`rt:${n}:${t}`, () => f.import(n, options.runtimeImport, t)),
    telemetry: (n, t = false) => once(`otel:${n}:${t}`, () => f.import(n, `${options.runtimeImport}/telemetry`, t)),
    validate: (n, t = false) => once(`validate:${n}:${t}`, () => f.import(n, `${options.runtimeImport}/validate`, t)),
    grpc: (n, t = false) => once(`grpc:${n}:${t}`, () => f.import(n, "@grpc/grpc-js", t)),
    protobuf: (n, t = false) => once(`pb:${n}:${t}`, () => f.import(n, "@bufbuild/protobuf", t)),
  };
}
