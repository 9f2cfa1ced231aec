import type { DescEnum, DescExtension, DescFile, DescMessage, DescService } from "@bufbuild/protobuf";
import type { GeneratedFile, ImportSymbol } from "@bufbuild/protoplugin";
import type { GrpckitOptions } from "../options/parse-options.js";
import { generatedNames } from "./generated-names.js";

/**
 * The imports of one generated file, each resolved once.
 *
 * protoplugin's `importShape` / `importSchema` recompute the names of every
 * type in the imported file on each call (O(types) per call, see
 * shared/notes/protoplugin-performance.md), so a file with n types would
 * cost O(n^2). Here the names of messages, enums, extensions and services
 * come from `generatedNames` (computed once per proto file) and their module
 * from `pbModule` (asked of protoplugin once per proto file), so each symbol
 * costs O(1) amortized; the symbols equal what `importShape` / `importSchema`
 * return (test/generated-names.test.ts compares them on all of googleapis).
 */
export interface FileImports {
  /** The message or enum type (`GetUserRequest`), type-only; what `f.importShape(desc)` returns. */
  shape(desc: DescMessage | DescEnum): ImportSymbol;
  /** The message or enum schema (`GetUserRequestSchema`), type-only, for `typeof` in types; what `f.importSchema(desc, true)` returns. */
  schemaType(desc: DescMessage | DescEnum): ImportSymbol;
  /** The message or enum schema, or the extension descriptor, as a value; what `f.importSchema(desc)` returns. */
  schema(desc: DescMessage | DescEnum | DescExtension): ImportSymbol;
  /** The service descriptor protoc-gen-es emits (`UserService`); what `f.importSchema(desc)` returns. */
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
  const once = (key: string, make: () => ImportSymbol) => memoized(memo, key, make);
  // Keyed by descriptor object, not type name: two files of a request may declare the same name.
  const shapes = new Map<DescMessage | DescEnum, ImportSymbol>();
  const schemaTypes = new Map<DescMessage | DescEnum, ImportSymbol>();
  const schemas = new Map<DescMessage | DescEnum | DescExtension | DescService, ImportSymbol>();
  return {
    shape: (d) => memoized(shapes, d, () => f.import(shapeName(d), pbModule(f, d.file), true)),
    schemaType: (d) => memoized(schemaTypes, d, () => f.import(descName(d), pbModule(f, d.file), true)),
    schema: (d) => memoized(schemas, d, () => f.import(descName(d), pbModule(f, d.file), false)),
    service: (d) => memoized(schemas, d, () => f.import(descName(d), pbModule(f, d.file), false)),
    runtime: (n, t = false) => once(`rt:${n}:${t}`, () => f.import(n, options.runtimeImport, t)),
    telemetry: (n, t = false) => once(`otel:${n}:${t}`, () => f.import(n, `${options.runtimeImport}/telemetry`, t)),
    validate: (n, t = false) => once(`validate:${n}:${t}`, () => f.import(n, `${options.runtimeImport}/validate`, t)),
    grpc: (n, t = false) => once(`grpc:${n}:${t}`, () => f.import(n, "@grpc/grpc-js", t)),
    protobuf: (n, t = false) => once(`pb:${n}:${t}`, () => f.import(n, "@bufbuild/protobuf", t)),
  };
}

function memoized<K>(map: Map<K, ImportSymbol>, key: K, make: () => ImportSymbol): ImportSymbol {
  let s = map.get(key);
  if (s === undefined) {
    s = make();
    map.set(key, s);
  }
  return s;
}

function shapeName(desc: DescMessage | DescEnum): string {
  return found(generatedNames(desc.file).shapes.get(desc), desc);
}

function descName(desc: DescMessage | DescEnum | DescExtension | DescService): string {
  return found(generatedNames(desc.file).descs.get(desc), desc);
}

function found(name: string | undefined, desc: DescMessage | DescEnum | DescExtension | DescService): string {
  if (name === undefined) throw new Error(`no generated name for ${desc.toString()}`);
  return name;
}

/** The module protoplugin imports a proto file's protoc-gen-es output from, per DescFile (one per file of a run). */
const pbModules = new WeakMap<DescFile, string>();

/**
 * The module specifier protoplugin uses for the `_pb` file of `file`, before
 * its own rewriting at print time (import_extension, rewrite_imports,
 * js_import_style): `./<proto path>_pb.js`, a map_imports target, or
 * `@bufbuild/protobuf/wkt...` for well-known types not generated in this run
 * (unless bootstrap_wkt). It depends on the run's parameters and
 * files_to_generate, which a GeneratedFile does not expose, so it is asked
 * of protoplugin: once per proto file and run (a DescFile belongs to one
 * run's registry), at the cost of one pass over that file's types.
 */
function pbModule(f: GeneratedFile, file: DescFile): string {
  let from = pbModules.get(file);
  if (from === undefined) {
    from = f.importSchema(file).from;
    pbModules.set(file, from);
  }
  return from;
}
