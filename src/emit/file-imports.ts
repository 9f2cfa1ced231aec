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
  /** A global the generated code names (`Promise`), printed as is; an import of the same name gets an alias. */
  global(name: GlobalName): ImportSymbol;
  /** A name the generated code declares (a module constant, a parameter), printed as is; an import of the same name gets an alias. */
  local(name: string): ImportSymbol;
}

/**
 * Every global that generated code names, in types (`Promise<...>`) or values
 * (`Number.isFinite`). protoplugin aliases an import only when its name is
 * taken in the file, and globals are not known to it: a message `Promise`
 * imported as `Promise` would shadow the global (`TS2315: Type 'Promise' is
 * not generic`). Printed through `FileImports.global`, each one is taken, and
 * such an import becomes `Promise as Promise$1`.
 */
export type GlobalName = "AsyncIterable" | "BigInt" | "Number" | "Object" | "Partial" | "Promise" | "Set" | "Uint8Array";

/**
 * The imports of the generated file `fileName` (`foo/v1/foo_grpckit.ts`), made through `f`.
 */
export function createFileImports(f: GeneratedFile, options: GrpckitOptions, fileName: string): FileImports {
  const self = ownModule(fileName);
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
    global: (n) => once(`own:${n}`, () => f.import(n, self)),
    local: (n) => once(`own:${n}`, () => f.import(n, self)),
  };
}

/**
 * The module protoplugin gives a symbol declared in the file itself: the
 * file's import path, `./foo/v1/foo_grpckit.js` for `foo/v1/foo_grpckit.ts`
 * (`.js`, `.d.ts`), derived as protoplugin derives it (`deriveImportPath`,
 * not exported). protoplugin prints such a symbol as its bare name, imports
 * nothing for it, and counts the name as taken in the file before it names
 * the imports, so an import of the same name is aliased.
 */
function ownModule(fileName: string): string {
  return `./${fileName.replace(/\.(d\.ts|ts|js)$/, ".js")}`;
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
